// Error model of the library: functions that can fail on bad input return Status or Result<T>.
// Exceptions never cross the library's API; a Status carries one human-readable line that names
// the input and the position (file, byte offset or line) so front doors can print it as is.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace huoyan {

class Status {
 public:
  Status() = default;
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return !error_; }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : error_(true), message_(std::move(message)) {}
  bool error_ = false;
  std::string message_;
};

inline Status OkStatus() { return Status(); }

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return v_.index() == 0; }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& value() const& { return std::get<T>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

#define HUOYAN_RETURN_IF_ERROR(expr)     \
  do {                                   \
    ::huoyan::Status _st = (expr);       \
    if (!_st.ok()) return _st;           \
  } while (0)

}  // namespace huoyan
