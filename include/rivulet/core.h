/* rivulet core: errors, interned feature names, values, events, byte buffers,
 * bounded readers, hash maps, and the object model every estimator shares.
 *
 * Everything in librivulet is built from these pieces:
 *
 *   rv_event  an insertion-ordered list of named features (like a Python dict,
 *             order matters: it is the summation order of dot products and
 *             distances). Names are interned symbols (rv_sym), values are
 *             doubles or byte strings. String values are borrowed by default.
 *   rv_object an instance of an rv_class: an estimator, a statistic, a metric,
 *             an optimizer, a learning-rate schedule, a loss or an initializer.
 *             Each class is created from River-style arguments (rv_args), can
 *             describe itself back as River text, clone itself fresh, deep-copy
 *             itself with state, and save/load its state as portable bytes.
 *
 * Error convention: functions return rv_status (0 = RV_OK, negative = error)
 * and fill an optional rv_error with a human-readable message.
 */
#ifndef RIVULET_CORE_H
#define RIVULET_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <math.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RV_VERSION "0.1.0"

/* ===== Errors ===== */

typedef int rv_status;
enum {
    RV_OK = 0,
    RV_EINVAL = -1,       /* bad argument or bad input value */
    RV_ENOMEM = -2,       /* allocation failed */
    RV_EIO = -3,          /* read/write failure */
    RV_ECORRUPT = -4,     /* malformed, truncated or hostile bytes */
    RV_ENOTFOUND = -5,    /* unknown name, key or id */
    RV_ETYPE = -6,        /* a value of the wrong type */
    RV_ESTATE = -7,       /* operation not valid in the current state */
    RV_EUNSUPPORTED = -8, /* the object cannot do that (e.g. predict on a transformer) */
    RV_EVERSION = -9      /* snapshot from an unknown format version */
};

typedef struct rv_error {
    rv_status code;
    char message[512];
} rv_error;

/* Records code and a printf-style message in err (which may be NULL) and
 * returns code, so that `return rv_error_set(err, RV_EINVAL, "...")` reads well. */
rv_status rv_error_set(rv_error *err, rv_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes an existing message: "context: old message". */
rv_status rv_error_prefix(rv_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rv_error_clear(rv_error *err);
const char *rv_strerror(rv_status code);

/* ===== Interned names ===== */

/* A symbol is a small positive integer standing for a byte string; the same
 * string always gets the same symbol for the life of the process. Interning
 * is thread-safe; rv_sym_name is lock-free and its pointer never moves. */
typedef uint32_t rv_sym;
#define RV_SYM_NONE ((rv_sym)0)

rv_sym rv_sym_intern(const char *s, size_t len); /* RV_SYM_NONE on OOM */
rv_sym rv_sym_intern_cstr(const char *s);
rv_sym rv_sym_lookup(const char *s, size_t len);  /* RV_SYM_NONE if never interned */
const char *rv_sym_name(rv_sym sym);              /* NUL-terminated */
size_t rv_sym_len(rv_sym sym);
size_t rv_sym_count(void);

/* ===== Values ===== */

typedef enum { RV_NONE = 0, RV_NUM = 1, RV_STR = 2 } rv_kind;

/* A feature value or a target: a double, or a (borrowed) byte string. */
typedef struct rv_value {
    double num;
    const char *str;
    uint32_t len;
    uint8_t kind;
} rv_value;

static inline rv_value rv_value_num(double x) { rv_value v = {x, NULL, 0, RV_NUM}; return v; }
rv_value rv_value_str(const char *s, size_t len);
rv_value rv_value_cstr(const char *s);
int rv_value_equal(const rv_value *a, const rv_value *b);

/* ===== Growable byte buffer (text and little-endian binary) ===== */

typedef struct rv_buf {
    char *data;
    size_t len, cap;
    int oom; /* set once an allocation fails; later writes are no-ops */
} rv_buf;

void rv_buf_init(rv_buf *b);
void rv_buf_free(rv_buf *b);
void rv_buf_reset(rv_buf *b);
rv_status rv_buf_reserve(rv_buf *b, size_t extra);
rv_status rv_buf_put(rv_buf *b, const void *p, size_t n);
rv_status rv_buf_puts(rv_buf *b, const char *s);
rv_status rv_buf_printf(rv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
rv_status rv_buf_vprintf(rv_buf *b, const char *fmt, va_list ap);
/* Shortest text that strtod reads back as exactly x ("nan", "inf", "-inf" too). */
rv_status rv_buf_put_double(rv_buf *b, double x);
/* Python repr of a float: like rv_buf_put_double but "1.0" rather than "1". */
rv_status rv_buf_put_pyfloat(rv_buf *b, double x);
/* Python's repr(x) into out (cap >= 32), e.g. 0.1, 3.0, 1e-05, 1e+16; returns its length. */
int rv_format_pyfloat(char *out, size_t cap, double x);
/* Python-style quoted string literal ('abc', with escapes). */
rv_status rv_buf_put_pystr(rv_buf *b, const char *s, size_t len);
const char *rv_buf_cstr(rv_buf *b); /* NUL-terminates (not counted in len) */

/* Binary writers: fixed widths, little-endian on every host. */
rv_status rv_buf_put_u8(rv_buf *b, uint8_t x);
rv_status rv_buf_put_u32(rv_buf *b, uint32_t x);
rv_status rv_buf_put_u64(rv_buf *b, uint64_t x);
rv_status rv_buf_put_f64(rv_buf *b, double x);
/* n doubles, each as rv_buf_put_f64 would write it (one copy on little-endian hosts). */
rv_status rv_buf_put_f64s(rv_buf *b, const double *x, size_t n);
rv_status rv_buf_put_bytes(rv_buf *b, const void *p, uint32_t n); /* u32 length + bytes */
rv_status rv_buf_put_sym(rv_buf *b, rv_sym s);                     /* as its name bytes */

/* Bounded binary reader: every read checks the remaining length; the first
 * failure sticks (later reads return zeros) and is reported by rv_reader_status. */
typedef struct rv_reader {
    const uint8_t *p;
    size_t len, pos;
    rv_status status;
    char what[128];
} rv_reader;

void rv_reader_init(rv_reader *r, const void *p, size_t len);
uint8_t rv_reader_u8(rv_reader *r);
uint32_t rv_reader_u32(rv_reader *r);
uint64_t rv_reader_u64(rv_reader *r);
double rv_reader_f64(rv_reader *r);
/* n doubles written by rv_buf_put_f64s (or n rv_buf_put_f64); zeros on failure. */
void rv_reader_f64s(rv_reader *r, double *out, size_t n);
/* Length-prefixed bytes; the pointer borrows from the reader's buffer. max_len
 * bounds what a hostile length may claim. */
const char *rv_reader_bytes(rv_reader *r, uint32_t *len, uint32_t max_len);
rv_sym rv_reader_sym(rv_reader *r);
/* A count of items each at least item_size bytes long: fails unless that many
 * bytes remain, so a hostile count never makes the caller allocate without bound. */
uint32_t rv_reader_count(rv_reader *r, size_t item_size);
void rv_reader_fail(rv_reader *r, const char *what);
rv_status rv_reader_status(const rv_reader *r, rv_error *err);

/* ===== Arena: bump allocator for short-lived strings ===== */

typedef struct rv_arena_block rv_arena_block;
typedef struct rv_arena {
    rv_arena_block *head;
} rv_arena;

void rv_arena_init(rv_arena *a);
void *rv_arena_alloc(rv_arena *a, size_t n); /* NULL on OOM; pointers never move */
char *rv_arena_strdup(rv_arena *a, const char *s, size_t len);
void rv_arena_reset(rv_arena *a); /* keeps the first block for reuse */
void rv_arena_free(rv_arena *a);

/* ===== Events ===== */

typedef struct rv_feature {
    rv_sym name;
    uint8_t kind; /* RV_NUM or RV_STR */
    uint32_t len;
    double num;
    const char *str;
} rv_feature;

typedef struct rv_event {
    rv_feature *items;
    uint32_t n, cap;
    rv_arena strings; /* owned copies made by rv_event_set_str_copy / rv_event_copy */
    /* Above RV_EVENT_SCAN_MAX features, a hash index of names (positions + 1,
     * 0 empty; slot_cap a power of two): event.c keeps it whole. */
    uint32_t *slots;
    uint32_t slot_cap;
} rv_event;

#define RV_EVENT_SCAN_MAX 64

void rv_event_init(rv_event *e);
void rv_event_free(rv_event *e);
void rv_event_clear(rv_event *e); /* keeps capacity */
/* set: replaces the value in place if the name exists, else appends. */
rv_status rv_event_set_num(rv_event *e, rv_sym name, double x);
rv_status rv_event_set_str(rv_event *e, rv_sym name, const char *s, size_t len); /* borrowed */
rv_status rv_event_set_str_copy(rv_event *e, rv_sym name, const char *s, size_t len);
rv_status rv_event_set_value(rv_event *e, rv_sym name, const rv_value *v); /* borrowed */
/* push: appends without looking for an existing name (caller guarantees unique). */
rv_status rv_event_push_num(rv_event *e, rv_sym name, double x);
rv_status rv_event_push_str(rv_event *e, rv_sym name, const char *s, size_t len);
const rv_feature *rv_event_get(const rv_event *e, rv_sym name);
int rv_event_remove(rv_event *e, rv_sym name); /* 1 if removed; keeps order */
/* Deep copy: dst owns copies of every string. */
rv_status rv_event_copy(rv_event *dst, const rv_event *src);
/* Shallow copy: strings stay borrowed from src's owners. */
rv_status rv_event_assign(rv_event *dst, const rv_event *src);
rv_value rv_feature_value(const rv_feature *f);

/* ===== Replacing a file whole (file_replace.c) ===== */

/* Write to fd, close it, then end: keep renames the new contents into place
 * (durable: the directory is synced too), keep 0 leaves the old file. Paths
 * that are not regular files are written straight into; symlinks through.
 * mode is the new file's, less the umask. */
typedef struct rv_file_replace {
    int fd;
    char *tmp;  /* NULL when writing straight into the path */
    char *path; /* where tmp is renamed to */
} rv_file_replace;

rv_status rv_file_replace_open(rv_file_replace *f, const char *path, unsigned mode, rv_error *err);
rv_status rv_file_replace_end(rv_file_replace *f, int keep, int durable, rv_error *err);

/* ===== Hash maps ===== */

/* Open-addressing map from a 64-bit key to a 64-bit value (key 0 allowed). */
typedef struct rv_map64 {
    uint64_t *keys;
    uint64_t *vals;
    uint8_t *used;
    uint32_t n, cap;
} rv_map64;

void rv_map64_init(rv_map64 *m);
void rv_map64_free(rv_map64 *m);
void rv_map64_clear(rv_map64 *m);
/* Returns a pointer to the value slot (NULL if absent). */
uint64_t *rv_map64_get(const rv_map64 *m, uint64_t key);
/* Returns the value slot, inserting `init` if absent; *inserted says which.
 * NULL on OOM. Slots move when the map grows. */
uint64_t *rv_map64_put(rv_map64 *m, uint64_t key, uint64_t init, int *inserted);
int rv_map64_del(rv_map64 *m, uint64_t key);

/* Map from a byte string to a 64-bit value; the map owns copies of the keys
 * and remembers insertion order (iterate i = 0..n-1 with rv_strmap_key_at). */
typedef struct rv_strmap {
    uint32_t *slots; /* index+1 into entries, 0 = empty */
    uint32_t cap;
    struct rv_strmap_entry {
        char *key;
        uint32_t len;
        uint64_t hash;
        uint64_t val;
    } *entries;
    uint32_t n, ecap, ndead;
} rv_strmap;

void rv_strmap_init(rv_strmap *m);
void rv_strmap_free(rv_strmap *m);
uint64_t *rv_strmap_get(const rv_strmap *m, const char *key, size_t len);
uint64_t *rv_strmap_put(rv_strmap *m, const char *key, size_t len, uint64_t init, int *inserted);
int rv_strmap_del(rv_strmap *m, const char *key, size_t len); /* entry kept as a tombstone */
uint32_t rv_strmap_size(const rv_strmap *m);                  /* live entries */
/* Iteration over entries in insertion order; dead entries have key == NULL. */
uint32_t rv_strmap_capacity_used(const rv_strmap *m);
const char *rv_strmap_key_at(const rv_strmap *m, uint32_t i, uint32_t *len);
uint64_t *rv_strmap_val_at(rv_strmap *m, uint32_t i);

uint64_t rv_hash_bytes(const void *p, size_t n);
static inline uint64_t rv_hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* ===== Numerics shared by several estimators ===== */

/* Exactly C's pow(x, 0.5) (Python's x ** .5, which creme uses for standard
 * deviations) at the cost of a sqrt: sqrt and pow differ on about 1 input in
 * 1,200, always when the exact root lies close to a rounding midpoint, so
 * those inputs alone are sent to pow. */
double rv_pow_half(double x);
/* out[i] = rv_pow_half(x[i]) for i < n (out may be x): four roots per
 * vector with AVX2 and FMA where the CPU has them (checked at run time). */
void rv_pow_half_n(const double *x, double *out, size_t n);
/* Exactly C's pow(x, 2.0) (Python's x ** 2, creme's squared KNN distance
 * terms), which is not always x * x: glibc's pow misrounds about 1 square
 * in 1,200 (see core/numeric.c). Inline fast path: x * x, unless the exact
 * square lies within 1/64 ulp of a rounding midpoint, or x is not 0 and |x|
 * is outside [2^-32, 2^33); those go to rv_pow_two_slow (= pow). The bits that x * x
 * rounds away are the low bits of the integer square of x's significand. */
double rv_pow_two_slow(double x);
static inline double rv_pow_two(double x)
{
    double a = fabs(x), hi = a * a;
    union { double d; uint64_t u; } b = {a};
    uint64_t m = (b.u & 0xfffffffffffffULL) | (1ULL << 52); /* a = m * 2^k, 2^52 <= m < 2^53 */
    uint64_t low = m * m;                                  /* m * m mod 2^64 */
    /* a * a keeps the top 53 bits of m * m: it drops 53 bits when
     * m * m >= 2^105 (m >= ceil(2^52.5)), else 52; r = dropped bits in units
     * of 2^-53 ulp, so the rounding midpoint is r = 2^52 */
    uint64_t r = (m >= 6369051672525773ULL ? low : low << 1) & ((1ULL << 53) - 1);
    int near_mid = r - ((1ULL << 52) - (1ULL << 47)) < (1ULL << 48); /* |r - 2^52| < ulp / 64 */
    int outside = ((b.u >> 52) - (1023 - 32) > 64) & (b.u != 0);    /* not 0, not in [2^-32, 2^33) */
    if (near_mid | outside) /* one rarely taken branch: the hot loops stay branch-free */
        return rv_pow_two_slow(a);
    return hi;
}

/* |x| ** p as Python computes it (pow), with fast paths for p = 1, 2. */
double rv_abs_pow(double x, double p);
/* a[0] + ... + a[n-1] as numpy's add.reduce sums a contiguous float64 array
 * (pairwise, 8 lanes, blocks of 128), so np.sum and np.mean match bit for bit. */
double rv_np_sum(const double *a, size_t n);

/* ===== Objects and classes ===== */

typedef enum {
    RV_CLASS_ESTIMATOR = 1, /* transformer, regressor or classifier */
    RV_CLASS_STAT,          /* univariate running statistic */
    RV_CLASS_METRIC,
    RV_CLASS_OPTIMIZER,
    RV_CLASS_SCHEDULER,
    RV_CLASS_LOSS,
    RV_CLASS_INITIALIZER,
    RV_CLASS_FUNCTION       /* a built-in stand-in for a Python function (split, dateparts) */
} rv_class_kind;

/* Flags of estimators. */
enum {
    RV_F_TRANSFORMER = 1u << 0,
    RV_F_REGRESSOR = 1u << 1,
    RV_F_CLASSIFIER = 1u << 2,  /* predicts class probabilities */
    RV_F_SUPERVISED = 1u << 3,  /* a transformer that learns from the target (TargetAgg) */
    RV_F_BINARY_ONLY = 1u << 4, /* a classifier for two classes only */
    RV_F_MULTICLASS = 1u << 5,
    RV_F_COMPOSITE = 1u << 6,   /* holds other estimators (pipeline, union, selection) */
    RV_F_COUNTS_CHANGES = 1u << 7 /* its learn counts rv_state_changes itself (below); stateless classes never do */
};

typedef struct rv_class rv_class;
typedef struct rv_object {
    const rv_class *cls;
} rv_object;

typedef struct rv_args rv_args;

struct rv_class {
    rv_class_kind kind;
    const char *module; /* River module, e.g. "preprocessing" */
    const char *name;   /* River class name, e.g. "StandardScaler" */
    unsigned flags;
    const char *doc;    /* one line, shown by tools */
    /* Builds an instance from River-style arguments; NULL with err set on a bad
     * argument (unknown keyword, wrong type, bad value). */
    rv_object *(*create)(const rv_args *args, rv_error *err);
    rv_object *(*clone)(const rv_object *self, rv_error *err); /* same params, fresh state */
    rv_object *(*copy)(const rv_object *self, rv_error *err);  /* same params and state */
    rv_status (*save)(const rv_object *self, rv_buf *out);     /* learned state only */
    rv_status (*load)(rv_object *self, rv_reader *in);         /* into a fresh clone */
    rv_status (*describe)(const rv_object *self, rv_buf *out); /* River expression text */
    size_t (*memory)(const rv_object *self);                   /* bytes held, incl. self */
    void (*destroy)(rv_object *self);
    const void *ops; /* the kind's own operations: rv_estimator_ops, rv_stat_ops, ... */
};

void rv_object_free(rv_object *o); /* NULL-safe */
rv_object *rv_object_clone(const rv_object *o, rv_error *err);
rv_object *rv_object_copy(const rv_object *o, rv_error *err);
rv_status rv_object_describe(const rv_object *o, rv_buf *out);
size_t rv_object_memory(const rv_object *o);

/* ===== Predictions ===== */

/* A regressor fills num. A classifier fills labels/proba (one entry per
 * known class, summing to 1) and sets num to P(true) for binary problems. */
typedef struct rv_prediction {
    uint8_t kind; /* RV_PRED_NUM or RV_PRED_PROBA */
    double num;
    uint32_t n, cap;
    rv_sym *labels;
    double *proba;
} rv_prediction;
enum { RV_PRED_NUM = 1, RV_PRED_PROBA = 2 };

void rv_prediction_init(rv_prediction *p);
void rv_prediction_free(rv_prediction *p);
void rv_prediction_set_num(rv_prediction *p, double x);
rv_status rv_prediction_set_proba(rv_prediction *p, rv_sym label, double proba); /* add or replace */
void rv_prediction_clear(rv_prediction *p);
/* The most probable label (first among ties), RV_SYM_NONE if empty. */
rv_sym rv_prediction_argmax(const rv_prediction *p);
/* A classifier's answer before it has seen a class ({} in creme and River).
 * Progressive validation leaves it out of the metrics, as both do
 * ("if y_pred != {} and y_pred is not None: metric.update(...)"). */
int rv_prediction_is_empty(const rv_prediction *p);
rv_status rv_prediction_copy(rv_prediction *dst, const rv_prediction *src);

/* Class labels are symbols of their text: booleans are "True" and "False"
 * (Python's spelling, as creme's predict_proba_one keys them), numbers their
 * shortest repr, strings themselves. */
rv_sym rv_label_of(const rv_value *y);
rv_sym rv_label_true(void);
rv_sym rv_label_false(void);
/* Binary target as a truth value: numbers != 0, "true"/"True"/"1" true,
 * "false"/"False"/"0" false; anything else is RV_ETYPE. */
rv_status rv_value_truth(const rv_value *y, int *truth, rv_error *err);

/* ===== Estimators ===== */

typedef struct rv_estimator_ops {
    /* learn one event (y NULL for an unsupervised learn of a transformer) */
    rv_status (*learn)(rv_object *self, const rv_event *x, const rv_value *y, rv_error *err);
    /* transformers: write the transformed event into out (cleared first) */
    rv_status (*transform)(rv_object *self, const rv_event *x, rv_event *out, rv_error *err);
    /* regressors and classifiers */
    rv_status (*predict)(rv_object *self, const rv_event *x, rv_prediction *out, rv_error *err);
    /* optional (NULL: nothing to do): starts loading into the cache the state
     * that the next learn, transform or predict will read (rv_estimator_prefetch) */
    void (*prefetch)(const rv_object *self);
} rv_estimator_ops;

rv_status rv_estimator_learn(rv_object *o, const rv_event *x, const rv_value *y, rv_error *err);
/* Learns that may have changed some state, counted per thread: each
 * rv_estimator_learn counts one, except for classes flagged
 * RV_F_COUNTS_CHANGES, whose learn counts only when it did change something
 * (MinMaxScaler: a new feature, a new minimum or maximum). The server reads
 * it around the predict of a creme-mode pipeline (whose unsupervised steps
 * learn during predict) and logs the predict only if the count moved: a
 * predict that changed nothing needs no replay. */
extern _Thread_local unsigned long rv_state_changes;
/* Set by a caller that holds a model for reading only (the server's first
 * try at the predict of a creme-mode pipeline, which may learn): a learn
 * that would change state then changes nothing, sets rv_state_refused and
 * fails with RV_ESTATE, and the caller tries again holding the model for
 * writing. Classes flagged RV_F_COUNTS_CHANGES decide for themselves (a
 * MinMaxScaler refuses only a new feature or a new extreme); every other
 * class refuses any learn. */
extern _Thread_local int rv_state_frozen, rv_state_refused;
/* The refusal of a frozen learn of o: sets rv_state_refused, returns RV_ESTATE. */
rv_status rv_state_refuse(const rv_object *o, rv_error *err);
rv_status rv_estimator_transform(rv_object *o, const rv_event *x, rv_event *out, rv_error *err);
rv_status rv_estimator_predict(rv_object *o, const rv_event *x, rv_prediction *out, rv_error *err);
/* A hint that o is about to be used: prefetches its state (its own
 * allocations, and its parts'), so that a caller going through many models
 * in turn (thousands of keyed pipelines, far larger than the caches) can
 * overlap the next model's cache misses with the current one's work. Reads
 * only pointers and sizes, writes nothing; NULL-safe. */
void rv_estimator_prefetch(const rv_object *o);
int rv_is_estimator(const rv_object *o);
unsigned rv_estimator_flags(const rv_object *o);

/* ===== River-style arguments ===== */

typedef enum {
    RV_ARG_NONE = 0,
    RV_ARG_BOOL,
    RV_ARG_NUM,   /* is_int says it was written without a point or exponent */
    RV_ARG_STR,
    RV_ARG_LIST,  /* also tuples */
    RV_ARG_DICT,
    RV_ARG_OBJ    /* an object built by an inner call, owned by the arg */
} rv_arg_kind;

typedef struct rv_arg rv_arg;
struct rv_arg {
    rv_arg_kind kind;
    int is_int;
    int boolean;
    double num;
    char *str;
    size_t len;     /* of str */
    size_t n;       /* items of a list or dict */
    rv_arg *items;  /* list items, or dict values */
    rv_arg *keys;   /* dict keys */
    rv_object *obj;
    int line, col;  /* where it was written (0 when built in C) */
};

struct rv_args {
    size_t npos;
    rv_arg *pos;
    size_t nkw;
    char **kw_names;
    rv_arg *kw;
    int line, col;     /* of the call */
    const char *callee; /* "preprocessing.StandardScaler" for messages */
};

/* Building args in C (tests and convenience constructors). */
void rv_args_init(rv_args *a, const char *callee);
void rv_args_free(rv_args *a); /* frees owned strings, lists and objects */
rv_status rv_args_add_num(rv_args *a, const char *kw, double x);  /* kw NULL = positional */
rv_status rv_args_add_int(rv_args *a, const char *kw, long x);
rv_status rv_args_add_bool(rv_args *a, const char *kw, int b);
rv_status rv_args_add_str(rv_args *a, const char *kw, const char *s);
rv_status rv_args_add_none(rv_args *a, const char *kw);
rv_status rv_args_add_obj(rv_args *a, const char *kw, rv_object *o); /* takes ownership */
rv_status rv_args_add_strlist(rv_args *a, const char *kw, const char *const *items, size_t n);
rv_status rv_args_add_arg(rv_args *a, const char *kw, rv_arg *arg); /* moves arg */
void rv_arg_free(rv_arg *arg);

/* Reading args inside create(). Declare the signature once; then each getter
 * finds the argument by keyword or position. rv_args_check rejects unknown
 * keywords ("did you mean ...?"), too many positionals and duplicates. */
typedef struct rv_signature {
    const char *const *names; /* NULL-terminated, in positional order */
} rv_signature;
rv_status rv_args_check(const rv_args *a, const char *const *names, rv_error *err);
/* Returns the argument or NULL if not given. */
const rv_arg *rv_args_find(const rv_args *a, const char *const *names, const char *name);
rv_status rv_args_get_num(const rv_args *a, const char *const *names, const char *name,
                          double dflt, double *out, rv_error *err);
rv_status rv_args_get_int(const rv_args *a, const char *const *names, const char *name,
                          long dflt, long lo, long hi, long *out, rv_error *err);
rv_status rv_args_get_bool(const rv_args *a, const char *const *names, const char *name,
                           int dflt, int *out, rv_error *err);
/* String argument; *out borrows from args (NULL when absent and dflt NULL). */
rv_status rv_args_get_str(const rv_args *a, const char *const *names, const char *name,
                          const char *dflt, const char **out, rv_error *err);
/* A list of strings (a single string is accepted as a one-item list). The
 * array is malloc'ed; strings borrow from args. */
rv_status rv_args_get_strlist(const rv_args *a, const char *const *names, const char *name,
                              const char ***out, size_t *n, rv_error *err);
/* An object argument of the given kind; ownership moves to the caller (the
 * args keep a clone, so the same args can build several instances).
 * *out stays NULL if absent. A number where a scheduler is expected becomes
 * optim.schedulers.Constant(number). */
rv_status rv_args_take_obj(const rv_args *a, const char *const *names, const char *name,
                           rv_class_kind kind, rv_object **out, rv_error *err);
/* Formats "callee: argument 'name' ..." errors with position. */
rv_status rv_args_error(const rv_args *a, const rv_arg *at, rv_error *err, rv_status code,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ===== Registry of classes ===== */

/* Finds a class by River name: "StandardScaler" or "preprocessing.StandardScaler"
 * (module optional). NULL if unknown. */
const rv_class *rv_class_find(const char *qualified_name);
/* Same, preferring a class of the given kind when a bare name is shared
 * ("Constant" is both a schedule and an initializer). */
const rv_class *rv_class_find_kind(const char *qualified_name, rv_class_kind kind);
/* All registered classes, NULL-terminated. */
const rv_class *const *rv_class_all(void);
/* The registered name closest to an unknown one (edit distance; a name equal
 * but for case is closest), or NULL. */
const char *rv_class_suggest(const char *name);
/* The same among the classes of one kind. */
const char *rv_class_suggest_kind(const char *name, rv_class_kind kind);
/* A name as River code may write it after `import river`: without its
 * leading "river." or "creme." (q itself otherwise). */
const char *rv_class_local_name(const char *q);
/* Creates an object from a class name and args. */
rv_object *rv_create(const char *qualified_name, const rv_args *args, rv_error *err);

/* Edit distance between two strings, for "did you mean" suggestions. */
size_t rv_edit_distance(const char *a, const char *b);


/* ===== Describing objects as River text ===== */

/* Writes "module.Name(" then arguments separated by ", ", then ")".
 * Only arguments that differ from their defaults need to be written. */
typedef struct rv_describer {
    rv_buf *out;
    int nargs;
} rv_describer;
void rv_describe_open(rv_describer *d, rv_buf *out, const rv_object *self);
void rv_describe_num(rv_describer *d, const char *name, double x);  /* Python float repr */
void rv_describe_int(rv_describer *d, const char *name, long x);
void rv_describe_bool(rv_describer *d, const char *name, int b);
void rv_describe_str(rv_describer *d, const char *name, const char *s);
void rv_describe_strlist(rv_describer *d, const char *name, const char *const *items, size_t n);
void rv_describe_obj(rv_describer *d, const char *name, const rv_object *o);
void rv_describe_raw(rv_describer *d, const char *name, const char *text);
rv_status rv_describe_close(rv_describer *d);

/* Saves o's state and loads it into a fresh clone: the portable round trip
 * that snapshots rely on, usable without a parser. */
rv_object *rv_object_roundtrip(const rv_object *o, rv_error *err);


/* ===== Feature slots ===== */

/* Dense slots for feature names: each new name gets the next index, so slots
 * follow first-seen order (the order creme iterates a dict it filled from
 * events). Estimators keep per-feature state in arrays indexed by slot.
 * Resolving an event costs one comparison per feature when its names are
 * exactly the slots' names in order (the steady state of a pipeline: every
 * event has the same layout), and a lookup per feature otherwise (linear for
 * a few names, a hash map beyond). */
typedef struct rv_slots {
    rv_sym *names;      /* slot -> name */
    uint32_t n, cap;
    rv_map64 index;     /* name -> slot, built once n exceeds 32 names */
    uint32_t *scratch;  /* resolution of the last non-identity layout */
    uint32_t scratch_cap;
} rv_slots;
#define RV_SLOT_NONE UINT32_MAX
enum {
    RV_SLOTS_FIND = 0,   /* unknown names resolve to RV_SLOT_NONE */
    RV_SLOTS_ADD = 1,    /* unknown names get new slots */
    RV_SLOTS_ADD_NUM = 2 /* only names with a numeric value get new slots */
};

void rv_slots_init(rv_slots *s);
void rv_slots_free(rv_slots *s);
void rv_slots_clear(rv_slots *s); /* forgets every name, keeps memory */
uint32_t rv_slots_find(const rv_slots *s, rv_sym name); /* RV_SLOT_NONE if absent */
/* The slot of name, adding it if absent; RV_SLOT_NONE on OOM. */
uint32_t rv_slots_add(rv_slots *s, rv_sym name);
/* Slot of each feature of x (result[i] for x->items[i]); the array stays
 * valid until the next call. NULL on OOM. Callers still check each feature's
 * kind: a name can carry a number in one event and a string in the next. */
const uint32_t *rv_slots_resolve(rv_slots *s, const rv_event *x, int mode);
size_t rv_slots_memory(const rv_slots *s); /* heap bytes */
/* Slot of x->items[i] without writing anything (safe for concurrent
 * readers): one comparison when the layout matches, else a lookup. */
static inline uint32_t rv_slots_find_at(const rv_slots *s, const rv_event *x, uint32_t i)
{
    rv_sym name = x->items[i].name;
    return i < s->n && s->names[i] == name ? i : rv_slots_find(s, name);
}

#ifdef __cplusplus
}
#endif
#endif
