// The web UI's files (src/ui/), embedded in the binary at build time by
// scripts/embed-assets.cmake, so that dwfs stays one file and the UI works
// offline.
#ifndef DWFS_UI_ASSETS_H_
#define DWFS_UI_ASSETS_H_

#include <string_view>

namespace dwfs {

struct UiAsset {
  std::string_view path;          // "/ui/main.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
};

// The embedded file served at `path`, or null. The data is static.
const UiAsset* FindUiAsset(std::string_view path);

}  // namespace dwfs

#endif  // DWFS_UI_ASSETS_H_
