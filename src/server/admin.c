/* Routing, and every endpoint but predict/learn and the streams.
 *
 *   GET  /api/init          {"flavor", "storage", "river_version", "version"}
 *                           | 400 "No flavor has been set."
 *   POST /api/init          {"flavor": ...} resets everything -> 201 | 400 allowed flavors
 *   POST /api/model[/name]  definition text or snapshot bytes -> 201 {"name"} | 400 why
 *   GET  /api/model[/name]  snapshot bytes | 404
 *   DELETE /api/model/name  204 | 404
 *   GET  /api/model/name/metrics  that model's metrics
 *   GET  /api/models        {"models": [sorted], "default": name|null,
 *                            "families": {name: {"by", "keys"}}}
 *   GET  /api/models/metrics  per model and family key (listing.c)
 *   GET  /api/metrics       the flavor's metrics over every learn
 *   GET  /api/stats         predict and learn call statistics | 400 "No flavor has been set."
 *   POST /api/predict, /api/learn, and their /batch forms (api.c)
 *   GET  /healthz /readyz /metrics /api/openapi.json (ops.c)
 */
#include "internal.h"
#include "schema.h"
#include "rivulet/dashboard.h"
#include "rivulet/family.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ===== Responses ===== */

static int dump_to_buf(const char *p, size_t n, void *data)
{
    rv_buf *b = data;
    rv_buf_put(b, p, n);
    return b->oom ? -1 : 0;
}

void rv_resp_clear(rv_resp *r)
{
    rv_buf_free(&r->body);
    rv_buf_free(&r->line_tickets);
    *r = (rv_resp){0};
}

/* jansson spells every real with 17 significant digits (0.1 as
 * 0.10000000000000001). Both read back as the same double, but Python's
 * json and River print repr's spelling (the shortest that reads back), and
 * so do we: out gets text with each real outside strings respelt; integers
 * are left alone, so counts stay exact. */
rv_status rv_json_respell_reals(const char *t, size_t n, rv_buf *out)
{
    size_t r = 0;
    while (r < n) {
        size_t from = r;
        if (t[r] == '"') {
            for (r++; r < n && t[r] != '"'; r++)
                if (t[r] == '\\' && r + 1 < n)
                    r++;
            if (r < n)
                r++;
            rv_buf_put(out, t + from, r - from);
            continue;
        }
        if (t[r] != '-' && (t[r] < '0' || t[r] > '9')) {
            for (; r < n && t[r] != '"' && t[r] != '-' && (t[r] < '0' || t[r] > '9'); r++)
                ;
            rv_buf_put(out, t + from, r - from);
            continue;
        }
        int real = 0;
        for (; r < n && t[r] && strchr("+-0123456789.eE", t[r]); r++)
            real |= t[r] == '.' || t[r] == 'e' || t[r] == 'E';
        char tok[64], num[48];
        size_t len = r - from;
        if (real && len < sizeof tok) {
            memcpy(tok, t + from, len);
            tok[len] = '\0';
            rv_buf_put(out, num, (size_t)rv_format_pyfloat(num, sizeof num, strtod(tok, NULL)));
        } else
            rv_buf_put(out, t + from, len);
    }
    return out->oom ? RV_ENOMEM : RV_OK;
}

/* jansson writes every real with a '.' or an 'e' (so that it reads back as
 * a real): text with neither, such as a learn's {}, is left as it is. */
static rv_status respell_buf(rv_buf *b)
{
    if (!b->len || (!memchr(b->data, '.', b->len) && !memchr(b->data, 'e', b->len)
                    && !memchr(b->data, 'E', b->len)))
        return RV_OK;
    rv_buf out;
    rv_buf_init(&out);
    rv_status st = rv_json_respell_reals(b->data, b->len, &out);
    if (st != RV_OK) {
        rv_buf_free(&out);
        return st;
    }
    rv_buf_free(b);
    *b = out;
    return RV_OK;
}

char *rv_json_text(const json_t *j)
{
    rv_buf b;
    rv_buf_init(&b);
    if (json_dump_callback(j, dump_to_buf, &b, JSON_COMPACT) != 0 || b.oom || respell_buf(&b) != RV_OK
        || !rv_buf_cstr(&b)[0]) { /* "" only when out of memory */
        rv_buf_free(&b);
        return NULL;
    }
    return b.data; /* the buffer's own allocation, now the caller's */
}

/* Encodes straight into the body (no intermediate string to copy); any
 * failure leaves "{}" as before. */
void rv_resp_json(rv_resp *r, int status, json_t *j)
{
    r->status = status;
    r->content_type = "application/json";
    rv_buf_reset(&r->body);
    if (!j || json_dump_callback(j, dump_to_buf, &r->body, JSON_COMPACT | JSON_ENCODE_ANY) != 0
        || r->body.oom || respell_buf(&r->body) != RV_OK) {
        rv_buf_free(&r->body);
        rv_buf_init(&r->body);
        rv_buf_puts(&r->body, "{}");
    }
    json_decref(j);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if there is none:
 * no overlong forms, surrogates or code points past U+10FFFF, as jansson
 * requires of every string. */
static int utf8_sequence(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    int n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) || (c == 0xF0 && p[1] < 0x90)
        || (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return n;
}

/* Messages quote what the client sent, cut to a length, which may split a
 * character or hold bytes that are not UTF-8; each such byte becomes '?' so
 * that the message is still a JSON string (jansson refuses it otherwise,
 * and the client got {} instead of the reason). */
static void utf8_repair(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p;) {
        int n = utf8_sequence(p);
        if (n)
            p += n;
        else
            *p++ = '?';
    }
}

json_t *rv_json_message(const char *msg)
{
    char copy[600];
    snprintf(copy, sizeof copy, "%s", msg);
    utf8_repair(copy);
    return json_pack("{s:s}", "message", copy);
}

void rv_resp_message(rv_resp *r, int status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rv_resp_json(r, status, rv_json_message(msg));
}

void rv_resp_error(rv_resp *r, const rv_error *err)
{
    int status = err->code == RV_ENOTFOUND ? 404
                 : err->code == RV_ENOMEM || err->code == RV_EIO ? 500 : 400;
    rv_resp_message(r, status, "%s", err->message[0] ? err->message : rv_strerror(err->code));
}

/* Why jansson refused text, for a client to act on. Python's json module
 * writes float('nan') (a pandas missing value) as NaN, and infinities as
 * Infinity, which are not JSON: say what to send instead. jansson names the
 * token it refused, but only "-" for -Infinity, whose rest is at position. */
void rv_json_problem(const json_error_t *e, const char *text, size_t len, char *out, size_t cap)
{
    size_t at = e->position > 0 ? (size_t)e->position : 0;
    int nonfinite = strcmp(e->text, "invalid token near 'NaN'") == 0
                    || strcmp(e->text, "invalid token near 'Infinity'") == 0
                    || (strcmp(e->text, "invalid token near '-'") == 0 && at <= len && len - at >= 8
                        && memcmp(text + at, "Infinity", 8) == 0);
    if (strstr(e->text, "JSON_ALLOW_NUL"))
        snprintf(out, cap, "a string holds \\u0000");
    else if (nonfinite)
        snprintf(out, cap, "%s (NaN and Infinity are not JSON numbers: send a missing feature as null"
                 " or leave it out)", e->text);
    else
        snprintf(out, cap, "%s", e->text);
}

static json_t *parse_body(const rv_req *req, rv_resp *resp)
{
    json_error_t jerr;
    json_t *j = json_loadb(req->body ? req->body : "", req->body_len, JSON_DECODE_ANY, &jerr);
    char why[320];
    if (!j) {
        rv_json_problem(&jerr, req->body ? req->body : "", req->body_len, why, sizeof why);
        rv_resp_message(resp, 400, "The body is not valid JSON: %s.", why);
    } else if (!json_is_object(j)) {
        rv_resp_message(resp, 400, "The body must be a JSON object.");
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* ===== init ===== */

static void init_get(rv_server *s, rv_resp *resp)
{
    if (s->flavor == RV_FLAVOR_NONE)
        return rv_resp_message(resp, 400, "No flavor has been set.");
    /* Chantilly names the River it runs "river_version"; here rivulet is
     * what stands in for River, so both fields give rivulet's version. */
    rv_resp_json(resp, 200, json_pack("{s:s,s:s,s:s,s:s}", "flavor", rv_flavor_name(s->flavor), "storage",
                                      rv_store_engine(s->store), "river_version", RV_VERSION,
                                      "version", RV_VERSION));
}

static void init_post(rv_server *s, const rv_req *req, rv_resp *resp)
{
    json_t *j = parse_body(req, resp);
    if (!j)
        return;
    json_t *why = rv_schema_errors(&rv_schema_init, j);
    if (why) {
        json_decref(j);
        return rv_resp_json(resp, 400, json_pack("{s:o}", "message", why));
    }
    rv_flavor f = rv_flavor_parse(json_string_value(json_object_get(j, "flavor")));
    json_decref(j);
    if (f == RV_FLAVOR_NONE) /* Chantilly's exceptions.UnknownFlavor, quotes and all */
        return rv_resp_message(resp, 400, "Allowed flavors are 'regression', 'binary', 'multiclass'.");
    rv_error err = {0};
    if (rv_state_reset(s, f, &err) != RV_OK)
        return rv_resp_error(resp, &err);
    init_get(s, resp);
    resp->status = 201;
}

/* ===== models ===== */

/* "." and ".." are refused: clients that normalise URLs (requests does)
 * could never address them. */
static int valid_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 128 || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!(n[i] == '-' || n[i] == '_' || n[i] == '.' || (n[i] >= '0' && n[i] <= '9')
              || (n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z')))
            return 0;
    return 1;
}

/* Chantilly gives uploads without a name a random "adjective-animal"; we
 * spell the same idea deterministically. */
static void generate_name(rv_server *s, char *out, size_t cap)
{
    static const char *const adj[] = {"brisk", "calm", "eager", "gentle", "lively", "nimble",
                                      "quiet", "steady", "swift", "wise"};
    static const char *const noun[] = {"otter", "heron", "lynx", "marten", "osprey", "stoat",
                                       "trout", "vole", "wren", "zander"};
    rv_rwshard_rdlock(&s->models_lock);
    do {
        unsigned long k = atomic_fetch_add(&s->name_counter, 1);
        snprintf(out, cap, "%s-%s%s", adj[k % 10], noun[(k / 10) % 10], "");
        if (k >= 100)
            snprintf(out, cap, "%s-%s-%lu", adj[k % 10], noun[(k / 10) % 10], k / 100);
    } while (rv_state_find(s, out));
    rv_rwshard_unlock(&s->models_lock);
}

static void model_post(rv_server *s, const char *name, const rv_req *req, rv_resp *resp)
{
    if (s->flavor == RV_FLAVOR_NONE)
        return rv_resp_message(resp, 400, "No flavor has been set.");
    char gen[160];
    if (!name) {
        generate_name(s, gen, sizeof gen);
        name = gen;
    }
    if (req->body_len == 0)
        return rv_resp_message(resp, 400, "The body is empty: send a model definition or snapshot.");
    /* Chantilly took pickle.dumps(model): a client written for it sends one */
    const unsigned char *b = (const unsigned char *)req->body;
    if (req->body_len >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
        return rv_resp_message(resp, 400, "The body is a Python pickle, which rivulet does not load: send the"
                                          " model's definition as text instead, e.g."
                                          " 'preprocessing.StandardScaler() | linear_model.LinearRegression()'.");
    rv_error err = {0};
    rv_object *m = rv_engine_load(req->body, req->body_len, &err);
    if (!m)
        return rv_resp_message(resp, 400, "The body is not a model: %s", err.message);
    if (rv_engine_check_flavor(m, s->flavor, &err) != RV_OK) {
        rv_object_free(m);
        return rv_resp_message(resp, 400, "%s", err.message);
    }
    if (rv_state_put_model(s, name, m, &err) != RV_OK)
        return rv_resp_error(resp, &err);
    rv_resp_json(resp, 201, json_pack("{s:s}", "name", name));
}

static void model_get(rv_server *s, const char *name, rv_resp *resp)
{
    rv_rwshard_rdlock(&s->models_lock);
    rv_model_entry *e = rv_state_find(s, name);
    if (!e) {
        rv_rwshard_unlock(&s->models_lock);
        if (name)
            return rv_resp_message(resp, 404, "No model named '%s'.", name);
        return rv_resp_message(resp, 404, "No default model has been set.");
    }
    /* A family is copied stripe by stripe, so only the keys of the stripe
     * being copied wait; the copy is then snapshotted without locks. */
    rv_buf_reset(&resp->body);
    rv_status st;
    if (e->is_family) {
        rv_error err = {0};
        rv_object *copy = rv_ckpt_family_copy(s, e, &err);
        rv_rwshard_unlock(&s->models_lock);
        st = copy ? rv_engine_snapshot(copy, &resp->body) : err.code ? err.code : RV_ENOMEM;
        rv_object_free(copy);
    } else {
        rv_rwshard_rdlock(&e->lock);
        st = rv_engine_snapshot(e->model, &resp->body);
        rv_rwshard_unlock(&e->lock);
        rv_rwshard_unlock(&s->models_lock);
    }
    if (st != RV_OK)
        return rv_resp_message(resp, 500, "The model could not be snapshotted: %s", rv_strerror(st));
    resp->status = 200;
    resp->content_type = "application/octet-stream";
}

static void model_metrics(rv_server *s, const char *name, rv_resp *resp)
{
    rv_rwshard_rdlock(&s->models_lock);
    rv_model_entry *e = rv_state_find(s, name);
    json_t *j = NULL;
    if (e) {
        pthread_mutex_lock(&s->metrics_mu);
        j = rv_metrics_to_json(&e->metrics);
        json_object_set_new(j, "n_learned", json_integer((json_int_t)e->n_learned));
        pthread_mutex_unlock(&s->metrics_mu);
    }
    rv_rwshard_unlock(&s->models_lock);
    if (!e)
        return rv_resp_message(resp, 404, "No model named '%s'.", name);
    rv_resp_json(resp, 200, j);
}

/* families: {name: {"by": key feature, "keys": keys seen so far}}. */
static void models_list(rv_server *s, rv_resp *resp)
{
    json_t *names = json_array(), *fams = json_object();
    rv_rwshard_rdlock(&s->models_lock);
    for (size_t i = 0; i < s->n_models; i++) {
        rv_model_entry *e = s->models[i];
        json_array_append_new(names, json_string(e->name));
        if (!e->is_family)
            continue;
        size_t keys = rv_family_size(e->model); /* the family's own lock */
        json_object_set_new(fams, e->name, json_pack("{s:s,s:I}", "by", rv_family_key_feature(e->model),
                                                     "keys", (json_int_t)keys));
    }
    json_t *dflt = s->default_model ? json_string(s->default_model) : json_null();
    rv_rwshard_unlock(&s->models_lock);
    rv_resp_json(resp, 200, json_pack("{s:o,s:o,s:o}", "models", names, "default", dflt, "families", fams));
}

static void metrics_get(rv_server *s, rv_resp *resp)
{
    if (s->flavor == RV_FLAVOR_NONE)
        return rv_resp_message(resp, 400, "No flavor has been set.");
    pthread_mutex_lock(&s->metrics_mu);
    json_t *j = rv_metrics_to_json(&s->metrics);
    pthread_mutex_unlock(&s->metrics_mu);
    rv_resp_json(resp, 200, j);
}

static void stats_get(rv_server *s, rv_resp *resp)
{
    if (s->flavor == RV_FLAVOR_NONE) /* Chantilly's statistics are made by init, as its metrics */
        return rv_resp_message(resp, 400, "No flavor has been set.");
    rv_resp_json(resp, 200, json_pack("{s:o,s:o}", "predict", rv_timing_to_json(&s->t_predict),
                                      "learn", rv_timing_to_json(&s->t_learn)));
}

static void single(rv_server *s, const rv_req *req, rv_resp *resp, int learn)
{
    json_t *payload = parse_body(req, resp), *result = NULL;
    if (!payload)
        return;
    uint64_t ticket = 0;
    resp->status = 0; /* a numeric predict answers into resp itself */
    int status = learn ? rv_api_learn_one(s, payload, &result, &ticket)
                       : rv_api_predict_one(s, payload, &result, resp, &ticket);
    json_decref(payload);
    if (!resp->status)
        rv_resp_json(resp, status, result);
    resp->wait = ticket; /* the HTTP layer answers once it is durable */
}

/* ===== routing ===== */

/* Whether a request changes models, the flavor or what is learned: these
 * need the token, and are refused once the store has failed. */
int rv_api_changes_state(const char *method, const char *path)
{
    if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
        return 0;
    return strcmp(path, "/api/init") == 0 || strncmp(path, "/api/model", 10) == 0
           || strncmp(path, "/api/learn", 10) == 0;
}

#define IS(m, p) (strcmp(req->method, (m)) == 0 && strcmp(req->path, (p)) == 0)

/* The methods each fixed path answers (HEAD wherever GET: http.c routes HEAD
 * as GET, and answers the streams itself). A known path asked with another
 * method is 405 with this list as its Allow header, which RFC 9110 requires
 * of a 405 (clients and proxies read it to learn what to send); a path that
 * is not a route is 404. Keep in step with rv_api_dispatch. */
static const struct route_methods {
    const char *path, *allow;
} ROUTE_METHODS[] = {
    {"/api/init", "GET, HEAD, POST"},
    {"/api/model", "GET, HEAD, POST"},
    {"/api/models", "GET, HEAD"},
    {"/api/models/metrics", "GET, HEAD"},
    {"/api/metrics", "GET, HEAD"},
    {"/api/stats", "GET, HEAD"},
    {"/api/predict", "POST"},
    {"/api/learn", "POST"},
    {"/api/predict/batch", "POST"},
    {"/api/learn/batch", "POST"},
    {"/api/stream/metrics", "GET, HEAD"},
    {"/api/stream/events", "GET, HEAD"},
    {"/healthz", "GET, HEAD"},
    {"/readyz", "GET, HEAD"},
    {"/metrics", "GET, HEAD"},
    {"/api/openapi.json", "GET, HEAD"},
};

static void method_not_allowed(const rv_req *req, rv_resp *resp, const char *allow)
{
    rv_resp_message(resp, 405, "%.20s is not allowed on %.200s: use %s.", req->method, req->path, allow);
    resp->allow = allow;
}

/* Called once no route matched: 405 for a known path, else 404. */
static void no_route(const rv_req *req, rv_resp *resp)
{
    for (size_t i = 0; i < sizeof ROUTE_METHODS / sizeof ROUTE_METHODS[0]; i++)
        if (strcmp(req->path, ROUTE_METHODS[i].path) == 0)
            return method_not_allowed(req, resp, ROUTE_METHODS[i].allow);
    if (rv_dashboard_find(req->path))
        return method_not_allowed(req, resp, "GET, HEAD");
    rv_resp_message(resp, 404, "Not found.");
}

void rv_api_dispatch(rv_server *s, const rv_req *req, rv_resp *resp)
{
    const char *model_prefix = "/api/model/";
    size_t mp = strlen(model_prefix);
    rv_error failed = {0};
    /* once a commit has failed, a change would reach the models in memory
     * and then be refused by the store: refuse it before it touches them */
    if (rv_api_changes_state(req->method, req->path) && rv_store_failure(s->store, &failed) != RV_OK)
        return rv_resp_message(resp, 500, "%s; changes are refused until the server restarts", failed.message);
    if (IS("POST", "/api/predict"))
        return single(s, req, resp, 0);
    if (IS("POST", "/api/learn"))
        return single(s, req, resp, 1);
    if (IS("POST", "/api/predict/batch"))
        return rv_batch(s, req, resp, 0);
    if (IS("POST", "/api/learn/batch"))
        return rv_batch(s, req, resp, 1);
    if (IS("GET", "/api/init"))
        return init_get(s, resp);
    if (IS("POST", "/api/init"))
        return init_post(s, req, resp);
    if (IS("GET", "/api/models"))
        return models_list(s, resp);
    if (IS("GET", "/api/models/metrics"))
        return rv_models_metrics(s, req, resp);
    if (IS("GET", "/api/metrics"))
        return metrics_get(s, resp);
    if (IS("GET", "/api/stats"))
        return stats_get(s, resp);
    if (IS("GET", "/healthz"))
        return rv_ops_healthz(s, resp);
    if (IS("GET", "/readyz"))
        return rv_ops_readyz(s, resp);
    if (IS("GET", "/metrics"))
        return rv_ops_prometheus(s, resp);
    if (IS("GET", "/api/openapi.json"))
        return rv_ops_openapi(s, resp);
    if (IS("POST", "/api/model"))
        return model_post(s, NULL, req, resp);
    if (IS("GET", "/api/model"))
        return model_get(s, NULL, resp);
    if (strncmp(req->path, model_prefix, mp) == 0) {
        char name[256];
        const char *rest = req->path + mp, *slash = strchr(rest, '/');
        size_t len = slash ? (size_t)(slash - rest) : strlen(rest);
        if (len >= sizeof name)
            return rv_resp_message(resp, 400, "The model name is too long.");
        memcpy(name, rest, len);
        name[len] = '\0';
        if (!valid_name(name))
            return rv_resp_message(resp, 400, "Model names are 1 to 128 letters, digits, '-', '_' or '.'"
                                              " (but not '.' or '..').");
        if (slash && strcmp(slash, "/metrics") == 0)
            return strcmp(req->method, "GET") == 0 ? model_metrics(s, name, resp)
                                                   : method_not_allowed(req, resp, "GET, HEAD");
        if (slash)
            return rv_resp_message(resp, 404, "Not found.");
        if (strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0)
            return model_post(s, name, req, resp);
        if (strcmp(req->method, "GET") == 0)
            return model_get(s, name, resp);
        if (strcmp(req->method, "DELETE") == 0) {
            rv_error err = {0};
            if (rv_state_delete_model(s, name, &err) != RV_OK)
                return rv_resp_error(resp, &err);
            resp->status = 204;
            rv_buf_reset(&resp->body);
            return;
        }
        return method_not_allowed(req, resp, "GET, HEAD, POST, PUT, DELETE");
    }
    if (strcmp(req->method, "GET") == 0) {
        const rv_asset *a = rv_dashboard_find(req->path); /* the live dashboard (docs/dashboard.md) */
        if (a) {
            resp->status = 200;
            resp->content_type = a->mime;
            rv_buf_reset(&resp->body);
            rv_buf_put(&resp->body, a->bytes, a->len);
            return;
        }
    }
    no_route(req, resp);
}
