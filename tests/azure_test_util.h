// Real and local cloud peers for the connector tests, each started by the test that uses it and
// stopped with it, on 127.0.0.1 only:
// - Azurite (Microsoft's storage emulator, npm azurite@3.35.0 pinned in tests/azurite), with
//   --disableTelemetry, over HTTP or, for bearer tokens, HTTPS with a certificate made here;
// - a blob writer that uploads export trees as append blobs, signing with SharedKey;
// - service SAS tokens signed as Azure signs them.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

#include "byoml/cloud/http_client.h"
#include "byoml/cloud/shared_key.h"
#include "byoml/common/time.h"
#include "test_util.h"

namespace byoml::test {

// Azurite's well-known development account (published in its documentation).
inline constexpr const char* kDevAccount = "devstoreaccount1";
inline constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

// A port no one listens on now (the kernel's choice).
inline int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

inline bool port_open(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(s);
  return ok;
}

// A self-signed certificate for 127.0.0.1 (openssl's command line), for HTTPS peers.
struct TestCertificate {
  std::string cert, key;
  explicit TestCertificate(const TempDir& dir) : cert(dir.file("cert.pem")), key(dir.file("key.pem")) {
    Run r = shell("openssl req -x509 -newkey rsa:2048 -nodes -keyout '" + key + "' -out '" + cert +
                  "' -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>&1");
    if (r.code != 0) throw std::runtime_error("openssl req failed: " + r.out);
  }
};

class Azurite {
 public:
  // HTTPS with OAuth (bearer tokens checked for audience, issuer and lifetime) when a
  // certificate is given; plain HTTP otherwise. Blobs are kept in memory, or under `location`
  // when one is given, so that a restarted emulator still has them (with their ETags).
  explicit Azurite(const TestCertificate* tls = nullptr, std::string location = "")
      : port_(free_port()), tls_(tls), location_(std::move(location)) {
    scheme_ = tls ? "https" : "http";
    start();
  }
  ~Azurite() { stop(); }
  // Starts it again on the same port (after stop()).
  void start() {
    std::string bin = std::string(BYOML_AZURITE_DIR) + "/node_modules/.bin/azurite-blob";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      std::string port = std::to_string(port_);
      std::vector<std::string> args = {bin, "--blobHost", "127.0.0.1", "--blobPort", port, "--disableTelemetry", "--silent"};
      if (location_.empty()) args.push_back("--inMemoryPersistence");
      else args.insert(args.end(), {"--location", location_});
      if (tls_) args.insert(args.end(), {"--oauth", "basic", "--cert", tls_->cert, "--key", tls_->key});
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(bin.c_str(), argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 300 && !port_open(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!port_open(port_)) throw std::runtime_error("azurite did not start on port " + std::to_string(port_));
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    for (int i = 0; i < 100 && port_open(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int port() const { return port_; }
  // http://127.0.0.1:PORT/devstoreaccount1
  std::string endpoint() const { return scheme_ + "://127.0.0.1:" + std::to_string(port_) + "/" + kDevAccount; }
  std::string connection_string() const {
    return std::string("DefaultEndpointsProtocol=") + scheme_ + ";AccountName=" + kDevAccount + ";AccountKey=" + kDevKey +
           ";BlobEndpoint=" + endpoint() + ";";
  }

 private:
  int port_;
  const TestCertificate* tls_;
  std::string location_;
  pid_t pid_ = -1;
  std::string scheme_;
};

// Uploads with SharedKey, as the export writes: append blobs (created, then appended to).
class BlobWriter {
 public:
  BlobWriter(std::string endpoint, std::string ca_file = "") : endpoint_(std::move(endpoint)), ca_(std::move(ca_file)) {}

  void create_container(const std::string& container) const {
    expect(send("PUT", container + "?restype=container", ""), {201, 409}, "create container " + container);
  }
  void create_append_blob(const std::string& container, const std::string& name) const {
    expect(send("PUT", container + "/" + percent_encode(name, "/"), "", {{"x-ms-blob-type", "AppendBlob"}}), {201},
           "create " + name);
  }
  void append(const std::string& container, const std::string& name, const std::string& bytes) const {
    for (size_t at = 0; at < bytes.size(); at += kBlock)
      expect(send("PUT", container + "/" + percent_encode(name, "/")+ "?comp=appendblock", bytes.substr(at, kBlock)),
             {201}, "append to " + name);
  }
  void put_append_blob(const std::string& container, const std::string& name, const std::string& bytes) const {
    create_append_blob(container, name);
    if (!bytes.empty()) append(container, name, bytes);
  }
  // Empty append blobs, many at a time.
  void create_append_blobs(const std::string& container, const std::vector<std::string>& names, unsigned threads = 16) const {
    parallel(names.size(), threads, [&](size_t i) { create_append_blob(container, names[i]); });
  }
  // Every file under `dir` as an append blob named by its path below `dir`, under `prefix`.
  size_t upload_tree(const std::string& container, const std::filesystem::path& dir, const std::string& prefix = "",
                     unsigned threads = 8) const {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
    parallel(files.size(), threads, [&](size_t i) {
      put_append_blob(container, prefix + std::filesystem::relative(files[i], dir).string(), file_text(files[i].string()));
    });
    return files.size();
  }

 private:
  static void parallel(size_t n, unsigned threads, const std::function<void(size_t)>& each) {
    std::atomic<size_t> next{0};
    std::vector<std::thread> workers;
    std::exception_ptr failure;
    std::mutex mu;
    for (unsigned t = 0; t < threads; ++t)
      workers.emplace_back([&] {
        try {
          for (size_t i; (i = next++) < n;) each(i);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu);
          failure = std::current_exception();
        }
      });
    for (auto& w : workers) w.join();
    if (failure) std::rethrow_exception(failure);
  }

  static constexpr size_t kBlock = 4u << 20;

  Result<HttpResponse> send(const std::string& method, const std::string& path, const std::string& body,
                            HttpHeaders headers = {}) const {
    HttpRequest r;
    r.method = method;
    r.url = endpoint_ + "/" + path;
    r.body = body;
    r.headers = std::move(headers);
    r.headers.emplace_back("x-ms-version", kStorageApiVersion);
    r.ca_file = ca_;
    if (Status st = sign_shared_key(r, kDevAccount, kDevKey); !st) return st;
    return http_send(r);
  }
  static void expect(const Result<HttpResponse>& r, std::initializer_list<long> ok, const std::string& what) {
    if (!r) throw std::runtime_error(what + ": " + r.status().message());
    for (long s : ok)
      if (r->status == s) return;
    throw std::runtime_error(what + ": HTTP " + std::to_string(r->status) + " " + r->body);
  }
  std::string endpoint_, ca_;
};

// A service SAS for a container (sv=2018-11-09, signed as Azure signs it), as a query string.
inline std::string container_sas(const std::string& container, Ticks expiry, const std::string& permissions = "rl") {
  std::string se = format_timestamp(expiry, 0);
  std::string sts = permissions + "\n\n" + se + "\n/blob/" + kDevAccount + "/" + container + "\n\n\n\n2018-11-09\nc\n\n\n\n\n\n";
  auto key = base64_decode(kDevKey);
  std::string sig = base64_encode(hmac_sha256(*key, sts));
  return "sv=2018-11-09&sr=c&sp=" + permissions + "&se=" + percent_encode(se) + "&sig=" + percent_encode(sig);
}

}  // namespace byoml::test
