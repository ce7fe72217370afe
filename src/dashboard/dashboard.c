/* The dashboard's embedded files, looked up by request path.
 *
 * URL layout (the page's own links follow it):
 *   /                  -> index.html
 *   /index.html        -> index.html
 *   /static/NAME       -> dashboard/NAME (app.js, chart.js, style.css, ...)
 * The table is generated into build/<variant>/gen/dashboard_assets.c by
 * tools/embed-assets.sh; it is small (a handful of files), so a linear scan
 * is as fast as anything cleverer.
 */
#include "rivulet/dashboard.h"

#include <string.h>

static const rv_asset *find_name(const char *name, size_t len)
{
    if (len == 0 || memchr(name, '/', len) || (len >= 2 && memcmp(name, "..", 2) == 0))
        return NULL;
    for (const rv_asset *a = rv_dashboard_assets; a->path; a++)
        if (strlen(a->path) == len && memcmp(a->path, name, len) == 0)
            return a;
    return NULL;
}

const rv_asset *rv_dashboard_find(const char *path)
{
    if (!path)
        return NULL;
    size_t len = strcspn(path, "?#");
    if ((len == 1 && path[0] == '/') || (len == 11 && memcmp(path, "/index.html", 11) == 0))
        return find_name("index.html", 10);
    static const char prefix[] = "/static/";
    size_t pl = sizeof prefix - 1;
    if (len > pl && memcmp(path, prefix, pl) == 0)
        return find_name(path + pl, len - pl);
    return NULL;
}
