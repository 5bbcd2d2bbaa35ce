#include "byoml/sources/eventhubs_transport.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <simdjson.h>

#include <cstring>
#include <deque>

#include "byoml/common/text.h"

namespace byoml {
namespace {

constexpr int kMetadataTimeoutMs = 10000;

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

class EventHubsTransport final : public Transport {
 public:
  EventHubsTransport(std::string source, std::string bootstrap, std::string topic, std::string group, bool sasl,
                     std::shared_ptr<const CloudContext> cloud)
      : source_(std::move(source)), bootstrap_(std::move(bootstrap)), topic_(std::move(topic)), group_(std::move(group)),
        sasl_(sasl), cloud_(std::move(cloud)) {}

  Result<std::vector<InputObject>> list(const std::string&, const ListHint&, std::vector<SkippedObject>&) const override {
    auto rk = connect();
    if (!rk) return rk.status();
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk->get(), topic_.c_str(), nullptr);
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk->get(), 0, t, &md, kMetadataTimeoutMs);
    rd_kafka_topic_destroy(t);
    if (err) return failure("reading the hub's partitions", err);
    std::vector<int32_t> partitions;
    rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; i < md->topic_cnt; ++i)
      if (topic_ == md->topics[i].topic) {
        topic_err = md->topics[i].err;
        for (int p = 0; p < md->topics[i].partition_cnt; ++p) partitions.push_back(md->topics[i].partitions[p].id);
      }
    rd_kafka_metadata_destroy(md);
    if (topic_err || partitions.empty())
      return Status(ErrorCode::kNotFound, fmt::format("{}: no event hub or topic \"{}\"{}", source_, topic_,
                                                      topic_err ? std::string(": ") + rd_kafka_err2str(topic_err) : ""));
    std::sort(partitions.begin(), partitions.end());
    PartitionList committed(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    for (int32_t p : partitions) rd_kafka_topic_partition_list_add(committed.get(), topic_.c_str(), p);
    if ((err = rd_kafka_committed(rk->get(), committed.get(), kMetadataTimeoutMs)))
      return failure("reading the consumer group's offsets", err);
    std::vector<InputObject> out;
    for (int32_t p : partitions) {
      int64_t low = 0, high = 0;
      if ((err = rd_kafka_query_watermark_offsets(rk->get(), topic_.c_str(), p, &low, &high, kMetadataTimeoutMs)))
        return failure(fmt::format("reading partition {}'s offsets", p), err);
      InputObject o;
      o.transport = shared_from_this();
      o.source = source_;
      o.name = fmt::format("partition-{}", p);
      o.size = static_cast<uint64_t>(high);
      o.version = topic_;
      o.byte_offsets = false;
      o.format = "json";
      int64_t start = low;
      auto* c = rd_kafka_topic_partition_list_find(committed.get(), topic_.c_str(), p);
      if (c && c->offset >= low) start = c->offset;  // the group's committed offset
      o.start = static_cast<uint64_t>(std::min(start, high));
      out.push_back(std::move(o));
    }
    return out;
  }

  Result<std::unique_ptr<ByteStream>> open(const InputObject& object, uint64_t offset) const override;
  bool remote() const override { return true; }

  // Moves the consumer group's offsets to `positions` (of this source).
  Status commit(const std::vector<ReadPosition>& positions) const override {
    auto rk = connect();
    if (!rk) return rk.status();
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    for (const auto& p : positions)
      if (p.source == source_ && p.object.rfind("partition-", 0) == 0)
        rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), std::stoi(p.object.substr(10)))->offset =
            static_cast<int64_t>(p.offset);
    if (list->cnt == 0) return {};
    if (auto err = rd_kafka_commit(rk->get(), list.get(), 0)) return failure("committing the consumer group's offsets", err);
    return {};
  }

  Result<KafkaHandle> connect() const {
    char errstr[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    auto set = [&](const char* k, const std::string& v) {
      return rd_kafka_conf_set(conf, k, v.c_str(), errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK;
    };
    bool ok = set("bootstrap.servers", bootstrap_) && set("group.id", group_) && set("enable.auto.commit", "false") &&
              set("enable.auto.offset.store", "false") && set("auto.offset.reset", "earliest") &&
              set("socket.timeout.ms", "30000") && set("log_level", "3");
    if (ok && sasl_) {
      const std::string& cs = cloud_->credentials.eventhubs_connection_string;
      if (cs.empty()) {
        rd_kafka_conf_destroy(conf);
        return Status(ErrorCode::kPermission,
                      fmt::format("{}: no Event Hubs connection string: set BYOML_EVENTHUBS_CONNECTION_STRING or "
                                  "eventhubs_connection_string in the credentials file", source_));
      }
      ok = set("security.protocol", "SASL_SSL") && set("sasl.mechanisms", "PLAIN") &&
           set("sasl.username", "$ConnectionString") && set("sasl.password", cs);
      if (ok && !cloud_->credentials.ca_bundle.empty()) ok = set("ssl.ca.location", cloud_->credentials.ca_bundle);
    }
    if (!ok) {
      std::string why = errstr;
      rd_kafka_conf_destroy(conf);
      return Status(ErrorCode::kInvalidArgument, redact_secrets(fmt::format("{}: {}", source_, why)));
    }
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
      rd_kafka_conf_destroy(conf);
      return Status(ErrorCode::kInvalidArgument, redact_secrets(fmt::format("{}: {}", source_, errstr)));
    }
    return KafkaHandle(rk);
  }

  Status failure(const std::string& what, rd_kafka_resp_err_t err) const {
    ErrorCode code = ErrorCode::kTransient;
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED ||
        err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED || err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED)
      code = ErrorCode::kPermission;
    return Status(code, redact_secrets(fmt::format("{}: {}: {}", source_, what, rd_kafka_err2str(err))));
  }

  const std::string& topic() const { return topic_; }
  Ticks timeout() const { return cloud_->http.timeout; }

 private:
  std::string source_, bootstrap_, topic_, group_;
  bool sasl_;
  std::shared_ptr<const CloudContext> cloud_;
};

// A partition's messages from one offset up to the listed high watermark, one line each.
class PartitionStream final : public ByteStream {
 public:
  PartitionStream(const EventHubsTransport& t, KafkaHandle rk, int32_t partition, int64_t next, int64_t end)
      : t_(t), rk_(std::move(rk)), partition_(partition), next_(next), end_(end) {}

  Status start() {
    if (next_ >= end_) return {};
    PartitionList list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), t_.topic().c_str(), partition_)->offset = next_;
    if (auto err = rd_kafka_assign(rk_.get(), list.get())) return t_.failure("assigning the partition", err);
    return {};
  }

  Result<size_t> read(char* dst, size_t n) override {
    while (at_ == line_.size()) {
      if (next_ >= end_) return size_t{0};
      BYOML_RETURN_IF_ERROR(next_message());
    }
    size_t k = std::min(n, line_.size() - at_);
    std::memcpy(dst, line_.data() + at_, k);
    at_ += k;
    return k;
  }

 private:
  Status next_message() {
    const int timeout_ms = static_cast<int>(t_.timeout() / (kTicksPerSecond / 1000));
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), timeout_ms);
    if (m == nullptr)
      return Status(ErrorCode::kTransient, fmt::format("partition {}: no message at offset {} within {}", partition_, next_,
                                                       format_duration(t_.timeout())));
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> msg(m, rd_kafka_message_destroy);
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return Status(ErrorCode::kTransient, "partition ended early");
    if (m->err) return t_.failure(fmt::format("reading partition {}", partition_), m->err);
    next_ = m->offset + 1;
    // One message, one line: a pretty-printed body is made compact; one that is not JSON is
    // passed on as it is, for the decoder to reject with its place.
    const char* body = static_cast<const char*>(m->payload);
    size_t size = m->len;
    line_.resize(size + 1);
    size_t out = 0;
    if (simdjson::minify(body, size, line_.data(), out) != simdjson::SUCCESS) {
      std::memcpy(line_.data(), body, size);
      for (size_t i = 0; i < size; ++i)
        if (line_[i] == '\n' || line_[i] == '\r') line_[i] = ' ';
      out = size;
    }
    line_.resize(out);
    line_ += '\n';
    at_ = 0;
    return {};
  }

  const EventHubsTransport& t_;
  KafkaHandle rk_;
  int32_t partition_;
  int64_t next_, end_;
  std::string line_;
  size_t at_ = 0;
};

Result<std::unique_ptr<ByteStream>> EventHubsTransport::open(const InputObject& object, uint64_t offset) const {
  auto rk = connect();
  if (!rk) return rk.status();
  auto s = std::make_unique<PartitionStream>(*this, std::move(rk).value(), std::stoi(object.name.substr(10)),
                                             static_cast<int64_t>(offset), static_cast<int64_t>(object.size));
  BYOML_RETURN_IF_ERROR(s->start());
  return std::unique_ptr<ByteStream>(std::move(s));
}

}  // namespace

Result<std::shared_ptr<const Transport>> make_eventhubs_transport(const std::string& text,
                                                                 const std::shared_ptr<const CloudContext>& cloud) {
  auto url = parse_url(text);
  if (!url) return url.status();
  if (url->scheme != "eventhubs" && url->scheme != "kafka") return std::shared_ptr<const Transport>();
  std::string topic = percent_decode(url->path.empty() ? "" : url->path.substr(1));
  if (topic.empty() || topic.find('/') != std::string::npos)
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("{}: name the hub or topic (eventhubs://NAMESPACE.servicebus.windows.net/am-securityevent)",
                              url_without_secrets(text)));
  std::string group = url->scheme == "eventhubs" ? "$Default" : "byoml";
  for (const auto& [name, value] : url->query_params()) {
    if (name != "group")
      return Status(ErrorCode::kInvalidArgument, fmt::format("{}: unknown parameter \"{}\" (group)", url_without_secrets(text), display_safe(name)));
    group = value;
  }
  // The authority as written (host:port[,host:port]); Event Hubs listens for Kafka on 9093.
  std::string rest = text.substr(text.find("://") + 3);
  std::string bootstrap = rest.substr(0, rest.find('/'));
  if (url->scheme == "eventhubs" && bootstrap.find(':') == std::string::npos) bootstrap += ":9093";
  return std::shared_ptr<const Transport>(std::make_shared<EventHubsTransport>(
      url_without_secrets(text), bootstrap, topic, group, url->scheme == "eventhubs", cloud));
}

}  // namespace byoml
