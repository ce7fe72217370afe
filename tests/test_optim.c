/* Tests of optim: the weight vector, one hand-computed step of every
 * optimizer, schedulers, losses, initializers, arguments and snapshots. */
#include "rivulet/optim.h"
#include "support.h"

#include <math.h>

static rv_object *mk(const char *name, rv_class_kind kind, const double *a, size_t n)
{
    rv_error err = {0};
    rv_object *o = rv_optim_new(name, kind, a, n, &err);
    cr_assert_not_null(o, "%s: %s", name, err.message);
    return o;
}

static char *describe(const rv_object *o)
{
    rv_buf b;
    rv_buf_init(&b);
    rv_object_describe(o, &b);
    char *s = strdup(rv_buf_cstr(&b));
    rv_buf_free(&b);
    return s;
}

/* One optimizer step on x with loss gradient g (grad_i = x_i * g). */
static void step(rv_object *opt, rv_weights *w, const rv_event *x, double g, double l2)
{
    rv_linear_grad gr = {.x = x, .g = g, .l2 = l2, .init = 0.0};
    rv_error err = {0};
    cr_assert_eq(rv_optimizer_step(opt, w, &gr, &err), RV_OK, "%s", err.message);
}

static rv_sym S(const char *s) { return rv_sym_intern_cstr(s); }

/* ===== Weight vector ===== */

Test(optim, weights_keep_order_and_find_with_cursor)
{
    rv_weights w;
    rv_weights_init(&w, 2);
    cr_assert_eq(w.stride, 3);
    double *e = rv_weights_slot(&w, S("b"), 1.5, NULL);
    cr_assert(e && e[0] == 1.5 && e[1] == 0 && e[2] == 0);
    rv_weights_slot(&w, S("a"), 2.5, NULL);
    cr_assert_eq(w.n, 2);
    cr_assert_eq(w.keys[0], S("b"));
    cr_assert_eq(rv_weights_get(&w, S("a"), -1), 2.5);
    cr_assert_eq(rv_weights_get(&w, S("zz"), -1), -1);
    cr_assert_eq(w.n, 2, "reading must not create");
    uint32_t cur = 1;
    cr_assert_eq(rv_weights_find(&w, S("a"), &cur), 1);
    cr_assert_eq(cur, 2);
    cr_assert_eq(rv_weights_find(&w, S("b"), &cur), 0, "a cursor miss falls back to a search");
    rv_weights_free(&w);
}

Test(optim, weights_index_many_keys)
{
    rv_weights w;
    rv_weights_init(&w, 0);
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "f%d", i);
        *rv_weights_slot(&w, S(name), 0, NULL) = i;
    }
    cr_assert_eq(w.n, 1000);
    cr_assert_not_null(w.index, "wide vectors get a hash index");
    for (int i = 999; i >= 0; i--) {
        snprintf(name, sizeof name, "f%d", i);
        cr_assert_eq(rv_weights_get(&w, S(name), -1), i);
        cr_assert_eq(w.keys[i], S(name), "insertion order kept");
    }
    rv_weights c;
    rv_weights_init(&c, 0);
    cr_assert_eq(rv_weights_copy(&c, &w), RV_OK);
    cr_assert_eq(rv_weights_get(&c, S("f777"), -1), 777);
    rv_weights_free(&c);
    rv_weights_free(&w);
}

Test(optim, weights_save_load_and_hostile_bytes)
{
    rv_weights w, r;
    rv_weights_init(&w, 1);
    rv_weights_init(&r, 1);
    rv_weights_slot(&w, S("x"), 0.25, NULL)[1] = 7;
    rv_weights_slot(&w, S("y"), -3, NULL);
    rv_buf b;
    rv_buf_init(&b);
    cr_assert_eq(rv_weights_save(&w, &b), RV_OK);
    rv_reader in;
    rv_reader_init(&in, b.data, b.len);
    cr_assert_eq(rv_weights_load(&r, &in), RV_OK);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(rv_weights_at(&r, 0)[1], 7);
    cr_assert_eq(rv_weights_get(&r, S("y"), 0), -3);
    for (size_t cut = 0; cut < b.len; cut++) { /* every truncation fails cleanly */
        rv_reader_init(&in, b.data, cut);
        cr_assert_neq(rv_weights_load(&r, &in), RV_OK, "cut at %zu", cut);
    }
    uint8_t huge[8] = {2, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f}; /* stride 2, count 2^31 */
    rv_reader_init(&in, huge, sizeof huge);
    cr_assert_neq(rv_weights_load(&r, &in), RV_OK);
    rv_weights other;
    rv_weights_init(&other, 3); /* wrong stride */
    rv_reader_init(&in, b.data, b.len);
    cr_assert_neq(rv_weights_load(&other, &in), RV_OK);
    rv_buf_reset(&b); /* duplicate key */
    rv_buf_put_u32(&b, 1);
    rv_buf_put_u32(&b, 2);
    for (int i = 0; i < 2; i++) {
        rv_buf_put_sym(&b, S("dup"));
        rv_buf_put_f64(&b, 1);
    }
    rv_weights one;
    rv_weights_init(&one, 0);
    rv_reader_init(&in, b.data, b.len);
    cr_assert_neq(rv_weights_load(&one, &in), RV_OK);
    rv_weights_free(&one);
    rv_weights_free(&other);
    rv_buf_free(&b);
    rv_weights_free(&w);
    rv_weights_free(&r);
}

/* ===== Optimizers: one or two steps by hand ===== */

/* x = {a: 2, s: "text", n: NaN}: only a counts. */
static void toy_event(rv_event *x)
{
    rv_event_init(x);
    rv_event_push_num(x, S("a"), 2);
    rv_event_push_str(x, S("s"), "text", 4);
    rv_event_push_num(x, S("n"), NAN);
}

Test(optim, sgd_steps_by_hand)
{
    rv_object *opt = mk("optim.SGD", RV_CLASS_OPTIMIZER, (double[]){0.1}, 1);
    rv_weights w;
    rv_weights_init(&w, rv_optimizer_state_size(opt));
    rv_event x;
    toy_event(&x);
    step(opt, &w, &x, 1.0, 0.0); /* g_a = 2: w = 0 - 0.1 * 2 */
    cr_assert_eq(w.n, 1, "strings and NaN make no weight");
    cr_assert_float_eq(rv_weights_get(&w, S("a"), 0), -0.2, 1e-15);
    step(opt, &w, &x, 1.0, 0.5); /* g_a = 2 + 2 * 0.5 * -0.2 = 1.8: w = -0.2 - 0.18 */
    cr_assert_float_eq(rv_weights_get(&w, S("a"), 0), -0.38, 1e-15);
    cr_assert_eq(rv_optimizer_iterations(opt), 2);
    cr_assert_eq(rv_optimizer_learning_rate(opt), 0.1);
    rv_event_free(&x);
    rv_weights_free(&w);
    rv_object_free(opt);
}

Test(optim, sgd_with_inverse_scaling_uses_the_step_count)
{
    rv_object *sched = mk("schedulers.InverseScaling", RV_CLASS_SCHEDULER, (double[]){0.5, 1.0}, 2);
    rv_error err = {0};
    rv_object *opt = rv_optimizer_new("SGD", sched, &err);
    cr_assert_not_null(opt, "%s", err.message);
    rv_weights w;
    rv_weights_init(&w, 0);
    rv_event x;
    toy_event(&x);
    step(opt, &w, &x, 1.0, 0); /* lr(0) = 0.5: w = -1 */
    step(opt, &w, &x, 1.0, 0); /* lr(1) = 0.25: w = -1.5 */
    cr_assert_eq(rv_weights_get(&w, S("a"), 0), -1.5);
    cr_assert_eq(rv_optimizer_learning_rate(opt), 0.5 / 3);
    rv_event_free(&x);
    rv_weights_free(&w);
    rv_object_free(opt);
}

Test(optim, adam_first_step_is_about_lr)
{
    rv_object *opt = mk("optim.Adam", RV_CLASS_OPTIMIZER, NULL, 0); /* lr 0.1 */
    cr_assert_eq(rv_optimizer_state_size(opt), 2);
    rv_weights w;
    rv_weights_init(&w, 2);
    rv_event x;
    toy_event(&x);
    step(opt, &w, &x, 1.0, 0); /* g = 2 */
    const double *e = rv_weights_at(&w, 0);
    cr_assert_float_eq(e[1], 0.2, 1e-15);   /* m = 0.1 * 2 */
    cr_assert_float_eq(e[2], 0.004, 1e-15); /* v = 0.001 * 4 */
    /* lr' = 0.1 * sqrt(0.001) / 0.1; w = -lr' * 0.2 / (sqrt(0.004) + 1e-8) */
    double want = -sqrt(0.001) * 0.2 / (sqrt(0.004) + 1e-8);
    cr_assert_float_eq(e[0], want, 1e-15);
    cr_assert_float_eq(e[0], -0.1, 1e-6);
    rv_event_free(&x);
    rv_weights_free(&w);
    rv_object_free(opt);
}

Test(optim, adagrad_two_steps)
{
    rv_object *opt = mk("optim.AdaGrad", RV_CLASS_OPTIMIZER, NULL, 0);
    rv_weights w;
    rv_weights_init(&w, 1);
    rv_event x;
    toy_event(&x);
    step(opt, &w, &x, 1.0, 0); /* g2 = 4, w = -0.1 / 2 * 2 */
    step(opt, &w, &x, 1.0, 0); /* g2 = 8, w -= 0.1 / sqrt(8) * 2 */
    cr_assert_eq(rv_weights_at(&w, 0)[1], 8);
    cr_assert_float_eq(rv_weights_at(&w, 0)[0], -0.1 - 0.2 / sqrt(8), 1e-8);
    rv_event_free(&x);
    rv_weights_free(&w);
    rv_object_free(opt);
}

Test(optim, rmsprop_one_step)
{
    rv_object *opt = mk("optim.RMSProp", RV_CLASS_OPTIMIZER, NULL, 0);
    rv_weights w;
    rv_weights_init(&w, 1);
    rv_event x;
    toy_event(&x);
    step(opt, &w, &x, 1.0, 0); /* g2 = 0.1 * 4 = 0.4, w = -0.1 / sqrt(0.4) * 2 */
    cr_assert_float_eq(rv_weights_at(&w, 0)[1], 0.4, 1e-15);
    cr_assert_float_eq(rv_weights_at(&w, 0)[0], -0.2 / sqrt(0.4), 1e-8);
    rv_event_free(&x);
    rv_weights_free(&w);
    rv_object_free(opt);
}

Test(optim, ftrl_creates_weights_only_past_l1)
{
    rv_object *opt = mk("optim.FTRLProximal", RV_CLASS_OPTIMIZER, NULL, 0); /* .05, 1, 0, 1 */
    rv_weights w;
    rv_weights_init(&w, 0);
    rv_event x;
    toy_event(&x);
    step(opt, &w, &x, 1.0, 0); /* z = 0: no weight; then z = 2, n = 4 */
    cr_assert_eq(w.n, 0);
    step(opt, &w, &x, 1.0, 0); /* w = -1 / ((1 + 2) / 0.05 + 1) * 2 = -2 / 61 */
    cr_assert_eq(w.n, 1);
    cr_assert_float_eq(rv_weights_get(&w, S("a"), 0), -2.0 / 61, 1e-15);
    /* its (z, n) table survives a snapshot */
    rv_error err = {0};
    rv_object *back = rv_object_roundtrip(opt, &err);
    cr_assert_not_null(back, "%s", err.message);
    rv_weights w2;
    rv_weights_init(&w2, 0);
    rv_weights_copy(&w2, &w);
    step(opt, &w, &x, 1.0, 0);
    step(back, &w2, &x, 1.0, 0);
    cr_assert_eq(rv_weights_get(&w, S("a"), 0), rv_weights_get(&w2, S("a"), 1));
    cr_assert_eq(rv_optimizer_iterations(back), 3);
    rv_weights_free(&w2);
    rv_object_free(back);
    rv_event_free(&x);
    rv_weights_free(&w);
    rv_object_free(opt);
}

Test(optim, optimizer_state_roundtrips_and_clone_is_fresh)
{
    rv_object *opt = mk("optim.Adam", RV_CLASS_OPTIMIZER, (double[]){0.05}, 1);
    rv_weights w;
    rv_weights_init(&w, 2);
    rv_event x;
    toy_event(&x);
    for (int i = 0; i < 3; i++)
        step(opt, &w, &x, 1.0, 0);
    rv_error err = {0};
    rv_object *back = rv_object_roundtrip(opt, &err), *fresh = rv_object_clone(opt, &err);
    cr_assert(back && fresh);
    cr_assert_eq(rv_optimizer_iterations(back), 3);
    cr_assert_eq(rv_optimizer_iterations(fresh), 0);
    cr_assert_eq(rv_optimizer_learning_rate(fresh), 0.05);
    rv_object_free(back);
    rv_object_free(fresh);
    rv_event_free(&x);
    rv_weights_free(&w);
    rv_object_free(opt);
}

Test(optim, weight_vector_must_match_the_optimizer)
{
    rv_object *opt = mk("optim.Adam", RV_CLASS_OPTIMIZER, NULL, 0);
    rv_weights w;
    rv_weights_init(&w, 0);
    rv_event x;
    toy_event(&x);
    rv_linear_grad gr = {.x = &x, .g = 1};
    cr_assert_eq(rv_optimizer_step(opt, &w, &gr, NULL), RV_EINVAL);
    rv_event_free(&x);
    rv_object_free(opt);
}

/* ===== Schedulers, losses, initializers ===== */

Test(optim, schedulers)
{
    rv_object *c = mk("optim.schedulers.Constant", RV_CLASS_SCHEDULER, (double[]){0.3}, 1);
    rv_object *inv = mk("optim.schedulers.InverseScaling", RV_CLASS_SCHEDULER,
                        (double[]){0.01, 0.25}, 2);
    rv_object *half = mk("optim.schedulers.InverseScaling", RV_CLASS_SCHEDULER, (double[]){1}, 1);
    cr_assert_eq(rv_scheduler_get(c, 0), 0.3);
    cr_assert_eq(rv_scheduler_get(c, 99), 0.3);
    cr_assert_eq(rv_scheduler_get(inv, 0), 0.01);
    cr_assert_eq(rv_scheduler_get(inv, 15), 0.005); /* 0.01 / 16 ** 0.25 */
    cr_assert_eq(rv_scheduler_get(half, 3), 0.5);   /* power defaults to 0.5 */
    char *d = describe(inv);
    cr_assert_str_eq(d, "optim.schedulers.InverseScaling(learning_rate=0.01, power=0.25)");
    free(d);
    rv_object_free(c);
    rv_object_free(inv);
    rv_object_free(half);
}

Test(optim, losses_by_hand)
{
    rv_object *sq = mk("losses.Squared", RV_CLASS_LOSS, NULL, 0);
    rv_object *ab = mk("losses.Absolute", RV_CLASS_LOSS, NULL, 0);
    rv_object *hu = mk("losses.Huber", RV_CLASS_LOSS, (double[]){1.0}, 1);
    rv_object *lg = mk("losses.Log", RV_CLASS_LOSS, NULL, 0);
    cr_assert_eq(rv_loss_eval(sq, -4, 5), 81);
    cr_assert_eq(rv_loss_gradient(sq, -4, 5), 18);
    cr_assert_eq(rv_loss_gradient(sq, 5, -4), -18);
    cr_assert_eq(rv_loss_mean_func(sq, 3.5), 3.5);
    cr_assert_eq(rv_loss_eval(ab, -42, 42), 84);
    cr_assert_eq(rv_loss_gradient(ab, 1, 2), 1);
    cr_assert_eq(rv_loss_gradient(ab, 2, 1), -1);
    cr_assert_eq(rv_loss_gradient(ab, 2, 2), -1);
    cr_assert_eq(rv_loss_gradient(hu, 0, 0.5), 0.5);
    cr_assert_eq(rv_loss_gradient(hu, 0, 3), 1);
    cr_assert_eq(rv_loss_gradient(hu, 0, -3), -1);
    cr_assert_eq(rv_loss_eval(hu, 0, 3), 2.5);
    cr_assert_eq(rv_loss_eval(hu, 0, 0.5), 0.125);
    cr_assert(rv_loss_is_binary(lg) && !rv_loss_is_binary(sq));
    cr_assert_eq(rv_loss_gradient(lg, 1, 0), -0.5);
    cr_assert_eq(rv_loss_gradient(lg, 0, 0), 0.5);
    cr_assert_eq(rv_loss_gradient(lg, 1, 20), -exp(-20)); /* past 18: e^-z * -y */
    cr_assert_eq(rv_loss_gradient(lg, 0, 20), 1);         /* below -18: -y */
    cr_assert_float_eq(rv_loss_eval(lg, 1, 0), log(2), 1e-15);
    cr_assert_eq(rv_loss_mean_func(lg, 0), 0.5);
    cr_assert_eq(rv_sigmoid(31), 1);
    cr_assert_eq(rv_sigmoid(-31), 0);
    cr_assert_float_eq(rv_sigmoid(1), 1 / (1 + exp(-1)), 1e-15);
    rv_object_free(sq);
    rv_object_free(ab);
    rv_object_free(hu);
    rv_object_free(lg);
}

Test(optim, initializers_and_shared_names)
{
    rv_object *z = mk("initializers.Zeros", RV_CLASS_INITIALIZER, NULL, 0);
    rv_object *c = mk("Constant", RV_CLASS_INITIALIZER, (double[]){0.5}, 1);
    rv_object *s = mk("Constant", RV_CLASS_SCHEDULER, (double[]){0.5}, 1);
    cr_assert_eq(rv_initializer_value(z), 0);
    cr_assert_eq(c->cls->kind, RV_CLASS_INITIALIZER);
    cr_assert_eq(s->cls->kind, RV_CLASS_SCHEDULER);
    cr_assert_eq(rv_initializer_value(c), 0.5);
    char *d = describe(c);
    cr_assert_str_eq(d, "optim.initializers.Constant(value=0.5)");
    free(d);
    d = describe(z);
    cr_assert_str_eq(d, "optim.initializers.Zeros()");
    free(d);
    rv_object_free(z);
    rv_object_free(c);
    rv_object_free(s);
}

/* ===== Arguments and describe ===== */

Test(optim, lr_takes_a_number_or_a_scheduler)
{
    rv_args a;
    rv_args_init(&a, "optim.SGD");
    rv_args_add_num(&a, "lr", 0.005);
    rv_error err = {0};
    rv_object *sgd = rv_create("optim.SGD", &a, &err);
    cr_assert_not_null(sgd, "%s", err.message);
    char *d = describe(sgd);
    cr_assert_str_eq(d, "optim.SGD(lr=0.005)");
    free(d);
    rv_args_free(&a);
    rv_object *sched = mk("schedulers.InverseScaling", RV_CLASS_SCHEDULER, (double[]){0.01, 0.25}, 2);
    rv_args_add_obj(&a, "lr", sched);
    rv_object *sgd2 = rv_create("optim.SGD", &a, &err);
    cr_assert_not_null(sgd2, "%s", err.message);
    d = describe(sgd2);
    cr_assert_str_eq(d, "optim.SGD(lr=optim.schedulers.InverseScaling(learning_rate=0.01, power=0.25))");
    free(d);
    rv_args_free(&a);
    rv_object *adam = mk("Adam", RV_CLASS_OPTIMIZER, (double[]){0.1, 0.8}, 2);
    d = describe(adam);
    cr_assert_str_eq(d, "optim.Adam(beta_1=0.8)");
    free(d);
    rv_object *ftrl = mk("FTRLProximal", RV_CLASS_OPTIMIZER, (double[]){0.1, 1, 0.5}, 3);
    d = describe(ftrl);
    cr_assert_str_eq(d, "optim.FTRLProximal(alpha=0.1, l1=0.5)");
    free(d);
    rv_object *rms = mk("RMSProp", RV_CLASS_OPTIMIZER, NULL, 0), *ada = mk("AdaGrad", RV_CLASS_OPTIMIZER, NULL, 0);
    d = describe(rms);
    cr_assert_str_eq(d, "optim.RMSProp()");
    free(d);
    d = describe(ada);
    cr_assert_str_eq(d, "optim.AdaGrad()");
    free(d);
    rv_object *hu = mk("Huber", RV_CLASS_LOSS, (double[]){0.5}, 1);
    d = describe(hu);
    cr_assert_str_eq(d, "optim.losses.Huber(epsilon=0.5)");
    free(d);
    rv_object_free(hu);
    rv_object_free(rms);
    rv_object_free(ada);
    rv_object_free(ftrl);
    rv_object_free(adam);
    rv_object_free(sgd);
    rv_object_free(sgd2);
}

Test(optim, bad_arguments_are_errors)
{
    rv_error err = {0};
    cr_assert_null(rv_optim_new("Adam", RV_CLASS_OPTIMIZER, (double[]){0.1, 1.5}, 2, &err));
    cr_assert(strstr(err.message, "beta_1"), "%s", err.message);
    cr_assert_null(rv_optim_new("schedulers.Constant", RV_CLASS_SCHEDULER, NULL, 0, &err));
    cr_assert(strstr(err.message, "learning_rate"), "%s", err.message);
    cr_assert_null(rv_optim_new("Huber", RV_CLASS_LOSS, (double[]){-1}, 1, &err));
    cr_assert_null(rv_optim_new("SGD", RV_CLASS_OPTIMIZER, (double[]){INFINITY}, 1, &err));
    cr_assert_null(rv_optim_new("Squared", RV_CLASS_LOSS, (double[]){1}, 1, &err));
    rv_args a;
    rv_args_init(&a, "optim.SGD");
    rv_args_add_str(&a, "lr", "fast");
    cr_assert_null(rv_create("optim.SGD", &a, &err));
    rv_args_free(&a);
    rv_args_add_num(&a, "learning_rate", 0.1);
    cr_assert_null(rv_create("optim.SGD", &a, &err));
    cr_assert(strstr(err.message, "unknown keyword"), "%s", err.message);
    rv_args_free(&a);
}
