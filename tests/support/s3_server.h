// A private S3-compatible server for one test: s3rver (npm) on 127.0.0.1 in a fresh temporary
// directory with one bucket, behind s3_verify_proxy.mjs, which checks every request's SigV4
// signature with an independent implementation (npm aws4) and can inject faults. Clients talk
// to endpoint() (the proxy), never to s3rver directly. Both processes are stopped by PID
// (SIGTERM, then SIGKILL) when the object is destroyed, and get SIGTERM if the thread that
// started them dies. Needs node and the packages scripts/bootstrap.sh installs into
// third_party/node/node_modules. Link pqflow_test_s3.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace pqflow::testing {

struct S3ServerOptions {
  std::string bucket = "pqflow-test";
  std::string region = "us-east-1";
  // The only credentials the proxy accepts.
  std::string access_key_id = "AKIDPQFLOWTEST";
  std::string secret_access_key = "pqflow/test+secret/key";
  // Empty: $PQFLOW_NODE_MODULES if set, else <source dir>/third_party/node/node_modules.
  std::string node_modules;
  std::chrono::milliseconds start_timeout{20000};
  std::chrono::milliseconds stop_timeout{5000};  // SIGKILL after this
};

// What the proxy injects into a fraction of S3 requests (see s3_verify_proxy.mjs).
struct S3FaultSpec {
  double rate = 0;  // 0 turns injection off
  // Any of "500", "503", "slowdown", "drop", "complete200" (CompleteMultipartUpload only: an
  // <Error> in a 200 body), "part500" (UploadPart only).
  std::vector<std::string> kinds = {"500", "503", "slowdown", "drop"};
  std::string match;   // only requests whose key contains this ("" = every request)
  std::string method;  // only requests with this HTTP method ("" = any)
};

struct S3ProxyStats {
  int requests = 0;  // S3 requests seen (control endpoints excluded)
  int faults = 0;    // answered with an injected fault
  int rejected = 0;  // refused by signature/checksum verification
};

class S3Server {
 public:
  using Options = S3ServerOptions;
  // Starts s3rver and the proxy, creates the bucket and waits until both answer. Throws
  // std::runtime_error with the end of the logs if anything fails.
  static std::unique_ptr<S3Server> Start(const Options& options = {});
  ~S3Server();  // stops only the two processes it started; removes the directory
  S3Server(const S3Server&) = delete;
  S3Server& operator=(const S3Server&) = delete;

  std::string endpoint() const;  // "http://127.0.0.1:PORT" of the verifying proxy
  int port() const { return proxy_port_; }
  const Options& options() const { return options_; }
  const std::string& data_dir() const { return data_dir_; }  // s3rver's -d
  pid_t s3rver_pid() const { return s3rver_pid_; }
  pid_t proxy_pid() const { return proxy_pid_; }

  void SetFaults(const S3FaultSpec& spec);  // throws if the proxy does not confirm
  S3ProxyStats Stats();
  // Upload ids of multipart uploads begun and neither completed nor aborted (s3rver's
  // on-disk upload folder).
  std::vector<std::string> PendingMultipartUploads() const;
  std::string LogTail() const;  // both logs' last lines, for failure messages

 private:
  explicit S3Server(const Options& options);
  void Launch();
  void StopProcess(pid_t& pid);
  std::string Control(const std::string& path_and_query);  // GET/POST on the proxy, body

  Options options_;
  TempDir dir_;
  std::string node_;
  std::string data_dir_;
  int s3rver_port_ = 0;
  int proxy_port_ = 0;
  pid_t s3rver_pid_ = -1;
  pid_t proxy_pid_ = -1;
};

}  // namespace pqflow::testing
