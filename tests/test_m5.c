/* Tests of the m5 module: the metric by hand and against the official weight,
 * the calendar against the organisers' file, the readers on the real
 * subsets, and the generator's promised properties. */
#include "rivulet/m5.h"
#include "support.h"

#include <math.h>
#include <sys/stat.h>

/* ===== WRMSSE by hand ===== */

/* Two items of FOODS_1 in stores CA_1 and TX_1; days 1-4 train, 5-6 truth,
 * every price 1 (so the weights are the units of days 1-4).
 *
 *   series            train     truth  forecast  scale  RMSSE        dollars
 *   FOODS_1_001_CA_1  1 2 1 2   2 2    1 1       1      1            6
 *   FOODS_1_002_CA_1  0 1 2 1   1 0    1 1       1      sqrt(1/2)    4
 *   FOODS_1_001_TX_1  2 2 2 4   3 3    3 3       4/3    0            10
 *   FOODS_1_002_TX_1  0 0 2 4   0 3    3 3       4      sqrt(9/8)    6
 *
 * (scales start at each series' first sale: 002_CA_1 has diffs 1,-1 and
 * 002_TX_1 the single diff 2). Aggregates:
 *   total   3 5 7 11 -> 6 8 vs 8 8: scale 24/3 = 8, mse 2: RMSSE 1/2
 *           (levels 1, 4 cat, 5 dept: one series each) = 0.5
 *   CA_1    1 3 3 3  -> 3 2 vs 2 2: scale 4/3, mse 1/2: sqrt(3/8), weight 10/26
 *   TX_1    2 2 4 8  -> 3 6 vs 6 6: scale 20/3, mse 9/2: sqrt(27/40), weight 16/26
 *           (levels 2, 3, 6, 7, 8, 9 coincide) = 0.7411179
 *   item 001  3 4 3 6 -> 5 5 vs 4 4: scale 11/3, mse 1: sqrt(3/11), weight 16/26
 *   item 002  0 1 4 5 -> 1 3 vs 4 4: scale 5, mse 5: 1, weight 10/26
 *           (level 10) = 0.7059895
 *   levels 11 and 12: (6 + 4 sqrt(1/2) + 6 sqrt(9/8)) / 26 = 0.5843226
 *   WRMSSE = (3 x 0.5 + 6 x 0.7411179 + 0.7059895 + 2 x 0.5843226) / 12 = 0.6517785 */
Test(m5, wrmsse_hand_computed)
{
    const char *ids[4] = {"FOODS_1_001_CA_1", "FOODS_1_002_CA_1", "FOODS_1_001_TX_1", "FOODS_1_002_TX_1"};
    const float y[4][6] = {{1, 2, 1, 2, 2, 2}, {0, 1, 2, 1, 1, 0}, {2, 2, 2, 4, 3, 3}, {0, 0, 2, 4, 0, 3}};
    const double fc[4][2] = {{1, 1}, {1, 1}, {3, 3}, {3, 3}};
    rv_m5_panel p;
    rv_error err = {0};
    cr_assert_eq(rv_m5_panel_init(&p, ids, 4, 6, &err), RV_OK, "%s", err.message);
    for (size_t s = 0; s < 4; s++) {
        for (size_t d = 1; d <= 6; d++)
            rv_m5_panel_day(&p, d)[s] = y[s][d - 1];
        p.prices[s] = 1.0f;
    }
    rv_m5_forecast f;
    cr_assert_eq(rv_m5_forecast_init(&f, &p, 4, 2, &err), RV_OK);
    for (size_t s = 0; s < 4; s++)
        for (size_t h = 0; h < 2; h++)
            f.values[h * 4 + s] = fc[s][h];
    rv_m5_score sc;
    cr_assert_eq(rv_m5_wrmsse(&p, &f, &sc, &err), RV_OK, "%s", err.message);
    const double want[12] = {0.5, 0.7411179, 0.7411179, 0.5, 0.5, 0.7411179, 0.7411179, 0.7411179,
                             0.7411179, 0.7059895, 0.5843226, 0.5843226};
    const size_t sizes[12] = {1, 2, 2, 1, 1, 2, 2, 2, 2, 2, 4, 4};
    for (int l = 0; l < 12; l++) {
        cr_expect_float_eq(sc.level[l], want[l], 1e-6, "level %d: %.7f", l + 1, sc.level[l]);
        cr_expect_eq(sc.level_series[l], sizes[l], "level %d size", l + 1);
    }
    cr_expect_float_eq(sc.wrmsse, 0.6517785, 1e-6, "%.7f", sc.wrmsse);
    cr_expect_eq(sc.zero_scale, 0);
    cr_expect_float_eq(rv_m5_dollar_sales(&p, 2, 4), 10.0, 1e-12);
    rv_m5_forecast_free(&f);
    rv_m5_panel_free(&p);
}

Test(m5, naive_and_snaive_forecasts)
{
    const char *ids[1] = {"HOBBIES_1_001_CA_1"};
    rv_m5_panel p;
    cr_assert_eq(rv_m5_panel_init(&p, ids, 1, 20, NULL), RV_OK);
    for (size_t d = 1; d <= 20; d++)
        rv_m5_panel_day(&p, d)[0] = (float)d;
    rv_m5_forecast f;
    cr_assert_eq(rv_m5_forecast_init(&f, &p, 10, 9, NULL), RV_OK);
    rv_m5_forecast_snaive(&p, &f);
    const double want[9] = {4, 5, 6, 7, 8, 9, 10, 4, 5};
    for (int h = 0; h < 9; h++)
        cr_expect_eq(f.values[h], want[h]);
    rv_m5_forecast_naive(&p, &f);
    for (int h = 0; h < 9; h++)
        cr_expect_eq(f.values[h], 10);
    rv_m5_forecast_free(&f);
    rv_m5_panel_free(&p);
}

Test(m5, a_forecast_cannot_train_past_the_data)
{
    const char *ids[1] = {"HOBBIES_1_001_CA_1"};
    rv_m5_panel p;
    cr_assert_eq(rv_m5_panel_init(&p, ids, 1, 20, NULL), RV_OK);
    rv_m5_forecast f;
    rv_error err = {0};
    cr_assert_eq(rv_m5_forecast_init(&f, &p, 21, 7, &err), RV_EINVAL); /* naive would read day 21 */
    cr_assert_not_null(strstr(err.message, "day 21"), "%s", err.message);
    cr_assert_eq(rv_m5_forecast_init(&f, &p, 20, 7, NULL), RV_OK);
    rv_m5_forecast_free(&f);
    rv_m5_panel_free(&p);
}

Test(m5, id_hierarchy)
{
    const char *ids[2] = {"HOUSEHOLD_2_515_WI_3_evaluation", "FOODS_3_090_CA_3"};
    rv_m5_panel p;
    cr_assert_eq(rv_m5_panel_init(&p, ids, 2, 1, NULL), RV_OK);
    cr_expect_str_eq(p.ids[0], "HOUSEHOLD_2_515_WI_3");
    cr_expect_str_eq(p.names[RV_M5_ITEM][p.key[RV_M5_ITEM][0]], "HOUSEHOLD_2_515");
    cr_expect_str_eq(p.names[RV_M5_DEPT][p.key[RV_M5_DEPT][0]], "HOUSEHOLD_2");
    cr_expect_str_eq(p.names[RV_M5_CAT][p.key[RV_M5_CAT][1]], "FOODS");
    cr_expect_str_eq(p.names[RV_M5_STORE][p.key[RV_M5_STORE][1]], "CA_3");
    cr_expect_str_eq(p.names[RV_M5_STATE][p.key[RV_M5_STATE][0]], "WI");
    rv_m5_panel_free(&p);
    const char *bad[1] = {"nounderscore"};
    rv_error err = {0};
    cr_expect_eq(rv_m5_panel_init(&p, bad, 1, 1, &err), RV_EINVAL);
}

/* ===== Against the real data ===== */

/* README: dollar sales of HOBBIES_1_001_CA_1 over d_1886..d_1913 are 224.94,
 * its official level-12 weight 6.0013126e-05 of a 3,748,180.05 total. */
Test(m5, official_weight_hobbies_1_001)
{
    RV_REQUIRE_SHARED(dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/data/m5/hobbies_1_001.csv.gz", dir);
    rv_m5_panel p;
    rv_error err = {0};
    cr_assert_eq(rv_m5_read_long(path, &p, &err), RV_OK, "%s", err.message);
    cr_expect_eq(p.n_series, 10);
    cr_expect_eq(p.n_days, 1969);
    long s = rv_m5_panel_find(&p, "HOBBIES_1_001_CA_1", 18);
    cr_assert_geq(s, 0);
    double dollars = rv_m5_dollar_sales(&p, (size_t)s, 1913);
    cr_expect_float_eq(dollars, 224.94, 1e-3, "%.4f", dollars);
    cr_expect_float_eq(dollars / 3748180.05, 6.0013126e-05, 1e-10);
    rv_m5_panel_free(&p);
}

Test(m5, read_tiny_long)
{
    RV_REQUIRE_SHARED(dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/data/m5/tiny_m5_train.csv.gz", dir);
    rv_m5_panel p;
    rv_error err = {0};
    cr_assert_eq(rv_m5_read_long(path, &p, &err), RV_OK, "%s", err.message);
    cr_expect_eq(p.n_series, 280);
    cr_expect_eq(p.n_days, 1885);
    cr_expect_eq(p.n_names[RV_M5_ITEM], 28);
    cr_expect_eq(p.n_names[RV_M5_STORE], 10);
    double total = 0;
    for (size_t i = 0; i < p.n_days * p.n_series; i++)
        total += p.units[i];
    cr_expect_eq(total, 2892418.0); /* zcat | awk '{s += $3}' */
    long s = rv_m5_panel_find(&p, "FOODS_3_586_CA_1", 16);
    long d;
    cr_assert_eq(rv_m5_day_of_date("2013-06-01", 10, &d), 0);
    cr_expect_eq(rv_m5_panel_day(&p, (size_t)d)[s], 111);
    cr_expect_float_eq(rv_m5_panel_price(&p, (size_t)s, (size_t)d), 1.58, 1e-6);
    cr_expect_eq(rv_m5_panel_day(&p, 1885)[s], 63);
    cr_expect(isnan(rv_m5_panel_price(&p, (size_t)rv_m5_panel_find(&p, "FOODS_1_033_CA_1", 16), 1)));
    rv_m5_panel_free(&p);
}

/* The computed calendar, written out, is the organisers' calendar.csv byte for byte. */
Test(m5, calendar_matches_real)
{
    RV_REQUIRE_SHARED(dir);
    char path[4200], tmp[] = "/tmp/rv_m5_cal_XXXXXX", mine[64];
    snprintf(path, sizeof path, "%s/data/m5/calendar.csv", dir);
    cr_assert_not_null(mkdtemp(tmp));
    rv_m5_gen_options o = {1, 1, 0, RV_M5_CALENDAR_DAYS};
    rv_m5_panel p;
    rv_error err = {0};
    cr_assert_eq(rv_m5_generate(&o, &p, &err), RV_OK, "%s", err.message);
    cr_assert_eq(rv_m5_write_kaggle(&p, tmp, &err), RV_OK, "%s", err.message);
    rv_m5_panel_free(&p);
    snprintf(mine, sizeof mine, "%s/calendar.csv", tmp);
    size_t la = 0, lb = 0;
    char *a = rv_test_read_file(path, &la), *b = rv_test_read_file(mine, &lb);
    cr_assert(a && b);
    /* Report the first differing line rather than just "differs". */
    size_t i = 0, line = 1;
    while (i < la && i < lb && a[i] == b[i])
        line += a[i++] == '\n';
    cr_expect(la == lb && i == la, "calendar differs at line %zu: real '%.60s' vs ours '%.60s'", line,
              a + (i > 20 ? i - 20 : 0), b + (i > 20 ? i - 20 : 0));
    free(a), free(b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    cr_expect_eq(system(cmd), 0);
}

/* ===== The generator ===== */

Test(m5, generator_hierarchy_counts)
{
    rv_m5_gen_options o = {42, 0, 0, 35};
    rv_m5_panel p;
    rv_error err = {0};
    cr_assert_eq(rv_m5_generate(&o, &p, &err), RV_OK, "%s", err.message);
    cr_expect_eq(p.n_series, 30490);
    const size_t want[RV_M5_NKEYS] = {3049, 7, 3, 10, 3};
    for (int k = 0; k < RV_M5_NKEYS; k++)
        cr_expect_eq(p.n_names[k], want[k], "key %d: %zu", k, p.n_names[k]);
    size_t per_dept[7] = {0};
    for (size_t s = 0; s < p.n_series; s++)
        per_dept[p.key[RV_M5_DEPT][s]]++;
    const char *dept[7] = {"HOBBIES_1", "HOBBIES_2", "HOUSEHOLD_1", "HOUSEHOLD_2", "FOODS_1", "FOODS_2", "FOODS_3"};
    const size_t items[7] = {416, 149, 532, 515, 216, 398, 823};
    for (int i = 0; i < 7; i++) {
        cr_expect_str_eq(p.names[RV_M5_DEPT][i], dept[i]);
        cr_expect_eq(per_dept[i], 10 * items[i], "%s", dept[i]);
    }
    cr_expect_str_eq(p.ids[0], "HOBBIES_1_001_CA_1");
    cr_expect_str_eq(p.ids[30489], "FOODS_3_823_WI_3");
    rv_m5_forecast f;
    rv_m5_score sc;
    cr_assert_eq(rv_m5_forecast_init(&f, &p, 28, 7, NULL), RV_OK);
    rv_m5_forecast_snaive(&p, &f);
    cr_assert_eq(rv_m5_wrmsse(&p, &f, &sc, &err), RV_OK, "%s", err.message);
    size_t total = 0;
    for (int l = 0; l < RV_M5_LEVELS; l++)
        total += sc.level_series[l];
    cr_expect_eq(total, 42840);
    rv_m5_forecast_free(&f);
    rv_m5_panel_free(&p);
}

static char *gen_files(uint64_t seed, size_t items, size_t days, const char *tag)
{
    static char dirs[2][64];
    char *dir = dirs[tag[0] == 'b'];
    snprintf(dir, 64, "/tmp/rv_m5_%s_XXXXXX", tag);
    cr_assert_not_null(mkdtemp(dir));
    rv_m5_gen_options o = {seed, items, 0, days};
    rv_m5_panel p;
    rv_error err = {0};
    cr_assert_eq(rv_m5_generate(&o, &p, &err), RV_OK, "%s", err.message);
    cr_assert_eq(rv_m5_write_kaggle(&p, dir, &err), RV_OK, "%s", err.message);
    rv_m5_panel_free(&p);
    return dir;
}

static char *slurp(const char *dir, const char *name, size_t *n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return rv_test_read_file(path, n);
}

Test(m5, generator_deterministic)
{
    char *a = gen_files(7, 25, 120, "a"), *b = gen_files(7, 25, 120, "b");
    const char *files[3] = {"sales_train_evaluation.csv", "calendar.csv", "sell_prices.csv"};
    for (int i = 0; i < 3; i++) {
        size_t na, nb;
        char *x = slurp(a, files[i], &na), *y = slurp(b, files[i], &nb);
        cr_assert(x && y);
        cr_expect(na == nb && memcmp(x, y, na) == 0, "%s differs between two runs", files[i]);
        cr_expect_gt(na, 100);
        free(x), free(y);
    }
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s %s", a, b);
    cr_expect_eq(system(cmd), 0);
    /* A shorter run is a prefix of a longer one; another seed differs. */
    rv_m5_gen_options o1 = {7, 25, 0, 60}, o2 = {7, 25, 0, 120}, o3 = {8, 25, 0, 60};
    rv_m5_panel p1, p2, p3;
    cr_assert_eq(rv_m5_generate(&o1, &p1, NULL), RV_OK);
    cr_assert_eq(rv_m5_generate(&o2, &p2, NULL), RV_OK);
    cr_assert_eq(rv_m5_generate(&o3, &p3, NULL), RV_OK);
    cr_expect(memcmp(p1.units, p2.units, 60 * p1.n_series * sizeof(float)) == 0);
    cr_expect(memcmp(p1.units, p3.units, 60 * p1.n_series * sizeof(float)) != 0);
    rv_m5_panel_free(&p1), rv_m5_panel_free(&p2), rv_m5_panel_free(&p3);
}

/* Weekday profile (Sat 1.23, Sun 1.16, Fri 1.03, Mon 0.92, Tue-Thu 0.89),
 * 25 December closed, leading zeros without a price. */
Test(m5, generator_profile, .timeout = 120)
{
    rv_m5_gen_options o = {42, 400, 0, 0};
    rv_m5_panel p;
    rv_error err = {0};
    cr_assert_eq(rv_m5_generate(&o, &p, &err), RV_OK, "%s", err.message);
    double wd[8] = {0}, all = 0;
    size_t zero_no_price = 0, sales_no_price = 0;
    for (size_t d = 1; d <= p.n_days; d++) {
        const rv_m5_day *c = &p.calendar[d - 1];
        double tot = 0;
        for (size_t s = 0; s < p.n_series; s++) {
            float y = rv_m5_panel_day(&p, d)[s];
            double price = rv_m5_panel_price(&p, s, d);
            tot += y;
            if (isnan(price))
                zero_no_price++, sales_no_price += y > 0;
        }
        if (c->month == 12 && c->mday == 25)
            cr_expect_eq(tot, 0, "sales on %d-12-25", c->year);
        wd[c->wday] += tot;
        all += tot;
    }
    const double want[8] = {0, 1.23, 1.16, 0.92, 0.89, 0.89, 0.89, 1.03};
    for (int w = 1; w <= 7; w++)
        cr_expect_float_eq(wd[w] / (all / 7), want[w], 0.03, "%s: %.3f", rv_m5_weekday_name(w),
                           wd[w] / (all / 7));
    cr_expect_gt(zero_no_price, p.n_days); /* some series launch late */
    cr_expect_eq(sales_no_price, 0);
    rv_m5_panel_free(&p);
}

/* Dollar shares FOODS 57%, HOUSEHOLD 30%, HOBBIES 13%: on all items (a
 * sample's shares swing with its few best sellers), over a year. */
Test(m5, generator_dollar_shares, .timeout = 120)
{
    rv_m5_gen_options o = {42, 0, 0, 364};
    rv_m5_panel p;
    rv_error err = {0};
    cr_assert_eq(rv_m5_generate(&o, &p, &err), RV_OK, "%s", err.message);
    double dollars[3] = {0};
    for (size_t s = 0; s < p.n_series; s++)
        dollars[p.key[RV_M5_CAT][s]] += rv_m5_dollar_sales(&p, s, 28) + rv_m5_dollar_sales(&p, s, 182) +
                                        rv_m5_dollar_sales(&p, s, 364);
    double dt = dollars[0] + dollars[1] + dollars[2];
    const double share[3] = {0.13, 0.30, 0.57}; /* HOBBIES, HOUSEHOLD, FOODS: first-seen order */
    for (int c = 0; c < 3; c++)
        cr_expect_float_eq(dollars[c] / dt, share[c], 0.04, "%s: %.3f", p.names[RV_M5_CAT][c], dollars[c] / dt);
    rv_m5_panel_free(&p);
}

/* ===== Files round trip ===== */

Test(m5, kaggle_and_long_round_trip)
{
    char dir[] = "/tmp/rv_m5_rt_XXXXXX", path[128];
    cr_assert_not_null(mkdtemp(dir));
    rv_m5_gen_options o = {3, 12, 0, 100};
    rv_m5_panel p, k, l;
    rv_error err = {0};
    cr_assert_eq(rv_m5_generate(&o, &p, &err), RV_OK);
    cr_assert_eq(rv_m5_write_kaggle(&p, dir, &err), RV_OK, "%s", err.message);
    snprintf(path, sizeof path, "%s/long.csv.gz", dir);
    cr_assert_eq(rv_m5_write_long(&p, path, &err), RV_OK, "%s", err.message);
    cr_assert_eq(rv_m5_read(dir, &k, &err), RV_OK, "%s", err.message);
    cr_assert_eq(rv_m5_read(path, &l, &err), RV_OK, "%s", err.message);
    cr_assert_eq(k.n_series, p.n_series);
    cr_assert_eq(k.n_days, p.n_days);
    cr_expect(memcmp(k.units, p.units, p.n_days * p.n_series * sizeof(float)) == 0);
    cr_assert_eq(l.n_series, p.n_series);
    for (size_t s = 0; s < p.n_series; s++) {
        long ls = rv_m5_panel_find(&l, p.ids[s], strlen(p.ids[s]));
        cr_assert_geq(ls, 0);
        for (size_t d = 1; d <= p.n_days; d += 13) {
            cr_expect_eq(rv_m5_panel_day(&l, d)[ls], rv_m5_panel_day(&p, d)[s]);
            double a = rv_m5_panel_price(&p, s, d), b = rv_m5_panel_price(&k, s, d),
                   c = rv_m5_panel_price(&l, (size_t)ls, d);
            cr_expect((isnan(a) && isnan(b) && isnan(c)) || (a == b && a == c), "price %zu %zu", s, d);
        }
    }
    /* Forecast file round trip, and a Kaggle submission read back. */
    rv_m5_forecast f, g, h;
    cr_assert_eq(rv_m5_forecast_init(&f, &p, 72, 28, NULL), RV_OK);
    rv_m5_forecast_snaive(&p, &f);
    snprintf(path, sizeof path, "%s/fc.csv", dir);
    cr_assert_eq(rv_m5_forecast_write(&f, &p, path, &err), RV_OK);
    cr_assert_eq(rv_m5_forecast_read(path, &p, 72, &g, &err), RV_OK, "%s", err.message);
    cr_expect(memcmp(f.values, g.values, 28 * p.n_series * sizeof(double)) == 0);
    snprintf(path, sizeof path, "%s/sub.csv", dir);
    FILE *fp = fopen(path, "w");
    fprintf(fp, "id");
    for (int i = 1; i <= 28; i++)
        fprintf(fp, ",F%d", i);
    fprintf(fp, "\n");
    for (size_t s = 0; s < p.n_series; s++) {
        fprintf(fp, "%s_evaluation", p.ids[s]);
        for (int i = 0; i < 28; i++)
            fprintf(fp, ",%g", f.values[(size_t)i * p.n_series + s]);
        fprintf(fp, "\n");
    }
    fprintf(fp, "UNKNOWN_1_001_CA_1_evaluation");
    for (int i = 0; i < 28; i++)
        fprintf(fp, ",0");
    fprintf(fp, "\n");
    fclose(fp);
    cr_assert_eq(rv_m5_forecast_read(path, &p, 0, &h, &err), RV_OK, "%s", err.message);
    cr_expect_eq(h.train_end, 72);
    cr_expect(memcmp(f.values, h.values, 28 * p.n_series * sizeof(double)) == 0);
    rv_m5_forecast_free(&f), rv_m5_forecast_free(&g), rv_m5_forecast_free(&h);
    rv_m5_panel_free(&p), rv_m5_panel_free(&k), rv_m5_panel_free(&l);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}
