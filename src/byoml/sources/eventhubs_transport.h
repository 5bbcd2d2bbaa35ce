// Event Hubs (and any Kafka topic) as a source, through the Kafka protocol (librdkafka):
//   eventhubs://NAMESPACE.servicebus.windows.net/HUB[?group=CONSUMER-GROUP]
//     SASL_SSL on port 9093, PLAIN with the user "$ConnectionString" and the namespace or hub
//     connection string as the password (BYOML_EVENTHUBS_CONNECTION_STRING or the
//     credentials file's eventhubs_connection_string);
//   kafka://HOST:PORT[,HOST:PORT...]/TOPIC[?group=CONSUMER-GROUP]   (plain Kafka).
// Each partition is one object whose size is its high watermark when listed; a read takes the
// messages from the start offset up to that, each message body ({"records":[...]}) one JSON
// line. Positions are partition offsets. Without positions, a read starts at the consumer
// group's committed offset (or the earliest); commit() moves the group's offsets, and callers
// call it only once the results are stored, so a consumer that restarts neither loses nor
// repeats a record.
#pragma once

#include "byoml/sources/transport.h"

namespace byoml {

// nullptr for a URL of another scheme.
Result<std::shared_ptr<const Transport>> make_eventhubs_transport(const std::string& url,
                                                                 const std::shared_ptr<const CloudContext>& cloud);

}  // namespace byoml
