// Result rows to a Sentinel workspace through the Azure Monitor Logs Ingestion API, the API
// that replaced the HTTP Data Collector API (retired 2026-09-14; byoml does not speak it).
//
// The target is the URL of a data collection rule's stream:
//   https://ENDPOINT/dataCollectionRules/DCR-IMMUTABLE-ID/streams/Custom-TABLE_CL
// (the DCR's logs ingestion endpoint or a data collection endpoint). Rows go out on commit()
// as gzip'd JSON arrays of at most 1 MB (before and after compression), with a bearer token
// for https://monitor.azure.com (client credentials, cached). 204 is accepted; 429 waits
// Retry-After; 413 halves the batch; timeouts and 5xx retry with backoff; 403 means the app
// lacks the Monitoring Metrics Publisher role on the rule.
//
// The service does not remove duplicates, so every row carries ByomlRowId (a hash of the run
// and the row) and every batch a stable x-ms-client-request-id: a batch sent twice after a lost
// answer is recognisable downstream. Rows also carry TimeStamp, the time column of the table
// the original Sentinel notebooks wrote, beside TimeGenerated.
#pragma once

#include <memory>

#include "byoml/cloud/cloud_context.h"
#include "byoml/results/result_sink.h"

namespace byoml {

struct LogsIngestionTarget {
  std::string endpoint;  // https://NAME.REGION.ingest.monitor.azure.com
  std::string rule_id;   // dcr-...
  std::string stream;    // Custom-AnomalousResourceAccessResult_CL
  uint64_t max_batch_bytes = 1'000'000;
};

// Whether `url` names a Logs Ingestion stream (…/dataCollectionRules/…/streams/…).
bool is_logs_ingestion_url(const std::string& url);
Result<LogsIngestionTarget> parse_logs_ingestion_url(const std::string& url);

struct IngestionFigures {
  uint64_t rows = 0, batches = 0, requests = 0, splits = 0;
};

std::unique_ptr<ResultSink> logs_ingestion_sink(LogsIngestionTarget target, std::shared_ptr<const CloudContext> cloud,
                                                IngestionFigures* figures = nullptr);

}  // namespace byoml
