/* dashboard: the live web page `rivulet serve` shows at GET /.
 *
 * The page's files (dashboard/ in the source tree: HTML, CSS, JavaScript,
 * all our own code, no framework, no CDN) are embedded in the binary at build
 * time by tools/embed-assets.sh, so the server needs no files on disk and the
 * page works with no internet. The server answers GET / and GET /static/NAME
 * with whatever rv_dashboard_find returns; the page then reads the JSON API
 * and the server-sent event streams.
 */
#ifndef RIVULET_DASHBOARD_H
#define RIVULET_DASHBOARD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One embedded file: its name relative to dashboard/ ("index.html",
 * "app.js"), its MIME type (with charset for text), and its bytes. */
typedef struct rv_asset {
    const char *path;
    const char *mime;
    const unsigned char *bytes;
    size_t len;
} rv_asset;

/* Every embedded file, ended by an entry whose path is NULL (generated). */
extern const rv_asset rv_dashboard_assets[];

/* The asset for a request path: "/" and "/index.html" give the page,
 * "/static/NAME" gives dashboard/NAME. A query string ("?v=1") is ignored.
 * Returns NULL for anything else, including paths with "..". */
const rv_asset *rv_dashboard_find(const char *path);

#ifdef __cplusplus
}
#endif

#endif
