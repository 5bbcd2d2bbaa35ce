// Azure Blob Storage containers, where Log Analytics continuous export writes
// (https://ACCOUNT.blob.core.windows.net/CONTAINER[/prefix], or the emulator's path-style
// http://127.0.0.1:10000/ACCOUNT/CONTAINER[/prefix]).
//
// Auth, first found: a SAS token in the URL or AZURE_STORAGE_SAS_TOKEN; an account key
// (AZURE_STORAGE_KEY, or AZURE_STORAGE_CONNECTION_STRING) for SharedKey signing; an Entra ID
// bearer token (client credentials or a managed identity); else anonymous (a public container).
//
// Listing follows the export layout down to its y=YYYY folders and lists only the days of the
// window (path slack included); pages of 5,000 blobs are followed to the end. Blobs are read in
// ranges of 4 MiB up to the size the listing gave, each range retried on its own (timeouts,
// 429, 5xx), so a growing append blob is read to a consistent point and its next read starts
// where this one stopped (sources/read_position.h).
#pragma once

#include "byoml/sources/transport.h"

namespace byoml {

// nullptr for a URL that is not a blob container's.
Result<std::shared_ptr<const Transport>> make_blob_transport(const std::string& url,
                                                            const std::shared_ptr<const CloudContext>& cloud);

}  // namespace byoml
