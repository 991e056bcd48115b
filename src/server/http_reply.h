// JSON replies shared by the routes of pqflow serve: every error is {"error": "..."}.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

namespace pqflow::server {

inline void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

inline void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, nlohmann::json{{"error", message}});
}

}  // namespace pqflow::server
