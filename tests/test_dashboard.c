/* The dashboard's embedded assets: every file of dashboard/ is in the binary,
 * byte for byte, with the right MIME type; request paths map to files as
 * include/rivulet/dashboard.h says; nothing outside the table is reachable.
 * (The page's behaviour in a browser is tested by tests/browser/.) */
#include "rivulet/dashboard.h"
#include "support.h"

#include <dirent.h>

static const rv_asset *must_find(const char *path)
{
    const rv_asset *a = rv_dashboard_find(path);
    cr_assert(a, "no asset for %s", path);
    return a;
}

Test(dashboard, root_and_index_give_the_page)
{
    const rv_asset *a = must_find("/");
    cr_assert_str_eq(a->path, "index.html");
    cr_assert_str_eq(a->mime, "text/html; charset=utf-8");
    cr_assert(a->len > 100 && strncmp((const char *)a->bytes, "<!doctype html>", 15) == 0);
    cr_assert_eq(must_find("/index.html"), a);
    cr_assert_eq(must_find("/?from=bookmark"), a);
}

Test(dashboard, static_paths_and_mime_types)
{
    cr_assert_str_eq(must_find("/static/app.js")->mime, "text/javascript; charset=utf-8");
    cr_assert_str_eq(must_find("/static/style.css")->mime, "text/css; charset=utf-8");
    cr_assert_str_eq(must_find("/static/chart.js?v=2")->path, "chart.js");
}

Test(dashboard, unknown_and_hostile_paths_are_refused)
{
    const char *bad[] = {"", "/static/", "/static", "/app.js", "/static/nope.js", "/static/../Makefile",
                         "/static/..", "/static/a/b.js", "/api/init", "//", "/static//app.js", NULL};
    for (size_t i = 0; bad[i]; i++)
        cr_expect_null(rv_dashboard_find(bad[i]), "%s should not be served", bad[i]);
    cr_expect_null(rv_dashboard_find(NULL));
}

/* The table holds exactly the files of dashboard/, byte for byte. */
Test(dashboard, every_source_file_is_embedded_verbatim)
{
    DIR *d = opendir("dashboard");
    cr_assert(d, "run the tests from the repository root (dashboard/ not found)");
    size_t files = 0, entries = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512], url[512];
        snprintf(path, sizeof path, "dashboard/%s", e->d_name);
        snprintf(url, sizeof url, "/static/%s", e->d_name);
        size_t len = 0;
        char *want = rv_test_read_file(path, &len);
        cr_assert(want, "cannot read %s", path);
        const rv_asset *a = must_find(url);
        cr_expect_eq(a->len, len, "%s: %zu bytes embedded, %zu on disk", path, a->len, len);
        cr_expect(a->len == len && memcmp(a->bytes, want, len) == 0, "%s differs from its embedding", path);
        free(want);
        files++;
    }
    closedir(d);
    for (const rv_asset *a = rv_dashboard_assets; a->path; a++) {
        cr_expect(a->mime && a->mime[0], "%s has no MIME type", a->path);
        entries++;
    }
    cr_expect_eq(entries, files, "%zu embedded, %zu files in dashboard/", entries, files);
}

/* Every /static/ reference in the page resolves, so the page loads whole. */
Test(dashboard, the_page_references_only_embedded_files)
{
    const rv_asset *page = must_find("/");
    const char *p = (const char *)page->bytes, *end = p + page->len;
    int refs = 0;
    while ((p = strstr(p, "\"/static/")) && p < end) {
        const char *q = strchr(p + 1, '"');
        cr_assert(q);
        char url[256];
        snprintf(url, sizeof url, "%.*s", (int)(q - p - 1), p + 1);
        cr_expect_not_null(rv_dashboard_find(url), "the page links %s, which is not embedded", url);
        refs++;
        p = q + 1;
    }
    cr_expect_geq(refs, 5);
}
