// Names a background thread, so per-thread CPU (/proc/<pid>/task/*/comm, top -H) shows whose it is.
#pragma once

#include <pthread.h>

#include <string>

namespace herald::engine {

// Linux keeps 15 characters of a thread's name; longer names are cut, never refused.
inline void name_thread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace herald::engine
