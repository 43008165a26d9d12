#include "src/collect/cann/msprof_export.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "src/collect/clock.h"

extern char** environ;

namespace huoyan {

namespace {

constexpr size_t kOutputTail = 4096;

bool executable_file(const std::string& path) {
  return !path.empty() && access(path.c_str(), X_OK) == 0 &&
         access((path + "/.").c_str(), F_OK) != 0;  // not a directory
}

void keep_tail(std::string* out, const char* data, size_t n) {
  out->append(data, n);
  if (out->size() > 2 * kOutputTail) out->erase(0, out->size() - kOutputTail);
}

std::string quoted(const std::string& arg) {
  if (!arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789_-+=./:,@%") == std::string::npos) {
    return arg;
  }
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

Result<std::string> find_msprof(const std::string& explicit_path) {
  if (!explicit_path.empty()) {
    if (executable_file(explicit_path)) return explicit_path;
    return Status::Error("msprof not found: " + explicit_path + " is not an executable file");
  }
  std::vector<std::string> tried;
  for (const char* var : {"ASCEND_TOOLKIT_HOME", "ASCEND_HOME_PATH"}) {
    const char* root = std::getenv(var);
    if (root == nullptr || *root == '\0') continue;
    for (const char* sub : {"/tools/profiler/bin/msprof", "/bin/msprof"}) {
      const std::string path = std::string(root) + sub;
      if (executable_file(path)) return path;
      tried.push_back(path);
    }
  }
  if (const char* path = std::getenv("PATH")) {
    std::string dirs = path;
    size_t begin = 0;
    while (begin <= dirs.size()) {
      size_t end = dirs.find(':', begin);
      if (end == std::string::npos) end = dirs.size();
      const std::string dir = dirs.substr(begin, end - begin);
      if (!dir.empty() && executable_file(dir + "/msprof")) return dir + "/msprof";
      begin = end + 1;
    }
  }
  tried.push_back("msprof on $PATH");
  std::string where;
  for (const auto& t : tried) where += (where.empty() ? "" : ", ") + t;
  return Status::Error("msprof not found (tried " + where +
                       "); install the CANN toolkit and source its set_env.sh, or give its path "
                       "(msprof=<path>)");
}

Result<ProcessOutcome> run_process(const std::vector<std::string>& argv,
                                   std::chrono::milliseconds timeout) {
  if (argv.empty()) return Status::Error("run_process: no program");
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return Status::Error(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group: a timeout kills its children too
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Status::Error("cannot run " + argv[0] + ": " + std::strerror(rc));
  }

  ProcessOutcome out;
  const int64_t deadline = monotonic_ns() + static_cast<int64_t>(timeout.count()) * 1000000;
  bool pipe_open = true;
  int status = 0;
  bool reaped = false;
  char buf[4096];
  while (!reaped) {
    const int64_t left_ms = (deadline - monotonic_ns()) / 1000000;
    if (left_ms <= 0) {
      kill(-pid, SIGKILL);  // the group we created for it
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      reaped = true;
      out.timed_out = true;
      break;
    }
    if (pipe_open) {
      pollfd p{fds[0], POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(left_ms < 50 ? left_ms : 50));
      if (ready > 0) {
        const ssize_t n = read(fds[0], buf, sizeof buf);
        if (n > 0) {
          keep_tail(&out.output, buf, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          pipe_open = false;
        }
      }
    } else {
      usleep(10000);
    }
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) reaped = true;
    if (w < 0 && errno == ECHILD) {  // SIGCHLD ignored by the application: reaped for us
      status = 0;                    // its exit code is lost; a failed export shows at import
      reaped = true;
    }
  }
  // Whatever it wrote just before exiting (children that outlive it are not waited for).
  pollfd p{fds[0], POLLIN, 0};
  while (pipe_open && poll(&p, 1, 0) > 0) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    keep_tail(&out.output, buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (out.output.size() > kOutputTail) out.output.erase(0, out.output.size() - kOutputTail);
  if (WIFEXITED(status)) {
    out.exited = true;
    out.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    out.signal = WTERMSIG(status);
  }
  return out;
}

std::vector<std::string> msprof_export_argv(const std::string& msprof, const std::string& dir) {
  return {msprof, "--export=on", "--output=" + dir};
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + quoted(a);
  return s;
}

Status msprof_export(const std::string& msprof, const std::string& prof_dir,
                     std::chrono::milliseconds timeout) {
  const std::vector<std::string> argv = msprof_export_argv(msprof, prof_dir);
  auto run = run_process(argv, timeout);
  if (!run.ok()) return run.status();
  const ProcessOutcome& o = run.value();
  // Its last lines, on one line (the message is a single line of the collector's state).
  std::string tail;
  for (char c : o.output) {
    if (c == '\r') continue;
    if (c == '\n') {
      if (!tail.empty() && tail.back() != ' ') tail += " | ";
    } else {
      tail += c;
    }
  }
  while (!tail.empty() && (tail.back() == ' ' || tail.back() == '|')) tail.pop_back();
  const std::string said = tail.empty() ? std::string() : "; its output ends with: " + tail;
  if (o.timed_out) {
    const int64_t ms = timeout.count();
    const std::string limit =
        ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
    return Status::Error(command_line(argv) + " did not finish within " + limit +
                         " and was stopped" + said);
  }
  if (!o.exited) {
    return Status::Error(command_line(argv) + " was killed by signal " + std::to_string(o.signal) +
                         said);
  }
  if (o.exit_code != 0) {
    return Status::Error(command_line(argv) + " exited with code " + std::to_string(o.exit_code) +
                         said);
  }
  return OkStatus();
}

}  // namespace huoyan
