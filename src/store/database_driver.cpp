#include "database_driver.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tb::store::detail {
namespace {

// Where the module may be: next to the executable (the build tree: build/tradingbot and
// build/libtradingbot-postgres.so) or in the install layout (/usr/local/bin/tradingbot and
// /usr/local/lib/tradingbot/). Never a search of LD_LIBRARY_PATH or the working directory: a
// trading daemon loads its own code from where it was installed, nothing else.
std::vector<std::filesystem::path> module_candidates(std::string& tried) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    tried = "the executable's own path is unknown (/proc/self/exe: " + ec.message() + ")";
    return {};
  }
  const std::filesystem::path dir = exe.parent_path();
  return {dir / kPostgresModuleFile, dir.parent_path() / "lib" / "tradingbot" / kPostgresModuleFile};
}

Result<const DatabaseDriver*> load_postgres_driver() {
  std::string tried;
  for (const std::filesystem::path& path : module_candidates(tried)) {
    if (!tried.empty()) tried += "; ";
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      tried += path.string() + ": not there";
      continue;
    }
    // RTLD_LOCAL: libpq's symbols serve the module only. RTLD_NOW: an unresolved symbol is an
    // error here, at start-up, not a crash at the first commit.
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      tried += path.string() + ": " + (why != nullptr ? why : "dlopen failed");
      continue;
    }
    using Entry = const DatabaseDriver* (*)();
    auto* entry = reinterpret_cast<Entry>(::dlsym(handle, kPostgresModuleEntry));
    const DatabaseDriver* driver = entry != nullptr ? entry() : nullptr;
    if (driver == nullptr) {
      ::dlclose(handle);
      tried += path.string() + ": no " + kPostgresModuleEntry + " entry point";
      continue;
    }
    if (std::string_view(driver->build_id) != build_id()) {
      const std::string theirs = driver->build_id;
      ::dlclose(handle);
      tried += path.string() + ": built as " + theirs + ", this binary is " + build_id() +
               " (install the module from the same build)";
      continue;
    }
    return driver;  // kept loaded for the life of the process
  }
  return Error{std::string("the PostgreSQL driver module ") + kPostgresModuleFile + " could not be loaded (" +
               tried + ")"};
}

}  // namespace

const char* build_id() noexcept { return TB_BUILD_ID; }

Result<const DatabaseDriver*> postgres_driver() {
  static const Result<const DatabaseDriver*> loaded = load_postgres_driver();
  return loaded;
}

}  // namespace tb::store::detail

namespace tb::store {

std::string database_driver_problem() {
  auto driver = detail::postgres_driver();
  return driver ? std::string() : driver.error().message;
}

Result<SchemaState> inspect_schema(const std::string& conninfo) {
  auto driver = detail::postgres_driver();
  if (!driver) return Error{driver.error().message};
  return driver.value()->inspect_schema(conninfo);
}

Result<SchemaState> migrate_schema(const std::string& conninfo, int target) {
  auto driver = detail::postgres_driver();
  if (!driver) return Error{driver.error().message};
  return driver.value()->migrate_schema(conninfo, target);
}

}  // namespace tb::store
