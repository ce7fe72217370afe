/* The M5 calendar, computed rather than stored.
 *
 * Day d_1 is 2011-01-29, a Saturday. For every day the organisers' calendar
 * gives the weekday (wday 1 = Saturday .. 7 = Friday), the Walmart week
 * wm_yr_wk = 1YYWW (fiscal year YY starts on the Saturday on or before
 * 1 February; weeks run Saturday to Friday), up to two events, and the SNAP
 * flags of the three states. SNAP days are fixed days of each month:
 *   CA 1-10;  TX 1 3 5 6 7 9 11 12 13 15;  WI 2 3 5 6 8 9 11 12 14 15.
 * Events follow civil rules (the third Monday of January, Easter by the
 * Gregorian computus, ...) except those of lunar or lunisolar calendars and
 * the NBA finals, whose dates 2011-2016 are listed (outside those years they
 * are absent). tests/test_m5.c compares the result with the real calendar.csv.
 */
#include "rivulet/m5.h"

#include <string.h>

/* ===== Civil dates ===== */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

#define DAY1_EPOCH 15003L /* days_from_civil(2011, 1, 29) */

static long day_of(int y, int m, int d) { return days_from_civil(y, m, d) - DAY1_EPOCH + 1; }

int rv_m5_day_of_date(const char *s, size_t len, long *day)
{
    if (len < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int v[8];
    const int pos[8] = {0, 1, 2, 3, 5, 6, 8, 9};
    for (int i = 0; i < 8; i++) {
        if (s[pos[i]] < '0' || s[pos[i]] > '9')
            return -1;
        v[i] = s[pos[i]] - '0';
    }
    int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], m = v[4] * 10 + v[5], d = v[6] * 10 + v[7];
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    *day = day_of(y, m, d);
    return 0;
}

void rv_m5_date_of_day(long d, char out[11])
{
    int y, m, md;
    civil_from_days(d - 1 + DAY1_EPOCH, &y, &m, &md);
    y = y < 0 ? 0 : y > 9999 ? 9999 : y;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + md / 10);
    out[9] = (char)('0' + md % 10);
    out[10] = '\0';
}

const char *rv_m5_weekday_name(int wday)
{
    static const char *const names[7] = {"Saturday", "Sunday",   "Monday", "Tuesday",
                                         "Wednesday", "Thursday", "Friday"};
    return wday >= 1 && wday <= 7 ? names[wday - 1] : "";
}

int rv_m5_state_index(const char *s, size_t len)
{
    if (len < 2)
        return -1;
    if (s[0] == 'C' && s[1] == 'A')
        return RV_M5_CA;
    if (s[0] == 'T' && s[1] == 'X')
        return RV_M5_TX;
    if (s[0] == 'W' && s[1] == 'I')
        return RV_M5_WI;
    return -1;
}

/* ===== Events ===== */

/* Day (1-based, 1 = Saturday) of the n-th weekday `wd` (0 = Sunday .. 6 =
 * Saturday) of a month; n = -1 means the last one. */
static long nth_weekday(int y, int m, int wd, int n)
{
    if (n < 0) {
        int ny = m == 12 ? y + 1 : y, nm = m == 12 ? 1 : m + 1;
        long last = days_from_civil(ny, nm, 1) - 1;
        int w = (int)(((last + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        return last - ((w - wd + 7) % 7) - DAY1_EPOCH + 1;
    }
    long first = days_from_civil(y, m, 1);
    int w = (int)(((first + 4) % 7 + 7) % 7);
    return first + (wd - w + 7) % 7 + 7 * (n - 1) - DAY1_EPOCH + 1;
}

static long easter(int y) /* anonymous Gregorian computus */
{
    int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4, f = (b + 8) / 25;
    int g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30, i = c / 4, k = c % 4;
    int l = (32 + 2 * e + 2 * i - h - k) % 7, m = (a + 11 * h + 22 * l) / 451;
    int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
    return day_of(y, month, day);
}

static long orthodox_easter(int y) /* Meeus' Julian computus, +13 days (1900-2099) */
{
    int a = y % 4, b = y % 7, c = y % 19, d = (19 * c + 15) % 30, e = (2 * a + 4 * b - d + 34) % 7;
    int month = (d + e + 114) / 31, day = (d + e + 114) % 31 + 1;
    return day_of(y, month, day) + 13;
}

/* Month-day (MMDD) of the listed events for 2011..2016; 0 = none that year. */
enum { TABLE_FIRST_YEAR = 2011, TABLE_YEARS = 6 };
static const struct listed_event {
    const char *name, *type;
    int mmdd[TABLE_YEARS];
} listed[] = {
    {"Purim End", "Religious", {320, 308, 224, 316, 305, 324}},
    {"Pesach End", "Religious", {426, 414, 402, 422, 411, 430}},
    {"NBAFinalsStart", "Sporting", {531, 612, 606, 605, 604, 602}},
    {"NBAFinalsEnd", "Sporting", {612, 621, 620, 615, 616, 619}},
    {"Ramadan starts", "Religious", {801, 720, 709, 629, 618, 607}},
    {"Eid al-Fitr", "Religious", {831, 819, 808, 729, 718, 706}},
    {"EidAlAdha", "Religious", {1107, 1026, 1015, 1004, 924, 912}},
    {"Chanukah End", "Religious", {1228, 1216, 1205, 1224, 1214, 0}},
};

typedef struct { long day; const char *name, *type; } event;

enum { SUN = 0, MON = 1, THU = 4 };

/* The events of year y, in the order the organisers' file lists a pair
 * falling on one day (OrthodoxEaster before Easter and Cinco De Mayo,
 * NBAFinalsEnd before Father's day). */
static size_t year_events(int y, event *ev)
{
    size_t n = 0;
#define ADD(d, nm, tp) (ev[n].day = (d), ev[n].name = (nm), ev[n].type = (tp), n++)
    ADD(day_of(y, 1, 1), "NewYear", "National");
    ADD(day_of(y, 1, 7), "OrthodoxChristmas", "Religious");
    ADD(nth_weekday(y, 1, MON, 3), "MartinLutherKingDay", "National");
    ADD(nth_weekday(y, 2, SUN, 1), "SuperBowl", "Sporting");
    ADD(day_of(y, 2, 14), "ValentinesDay", "Cultural");
    ADD(nth_weekday(y, 2, MON, 3), "PresidentsDay", "National");
    ADD(easter(y) - 46, "LentStart", "Religious");
    ADD(easter(y) - 39, "LentWeek2", "Religious");
    ADD(day_of(y, 3, 17), "StPatricksDay", "Cultural");
    ADD(orthodox_easter(y), "OrthodoxEaster", "Religious");
    ADD(easter(y), "Easter", "Cultural");
    ADD(day_of(y, 5, 5), "Cinco De Mayo", "Cultural");
    ADD(nth_weekday(y, 5, SUN, 2), "Mother's day", "Cultural");
    ADD(nth_weekday(y, 5, MON, -1), "MemorialDay", "National");
    for (size_t i = 0; i < sizeof listed / sizeof listed[0]; i++) {
        int k = y - TABLE_FIRST_YEAR;
        if (k >= 0 && k < TABLE_YEARS && listed[i].mmdd[k])
            ADD(day_of(y, listed[i].mmdd[k] / 100, listed[i].mmdd[k] % 100), listed[i].name,
                listed[i].type);
    }
    ADD(nth_weekday(y, 6, SUN, 3), "Father's day", "Cultural");
    ADD(day_of(y, 7, 4), "IndependenceDay", "National");
    ADD(nth_weekday(y, 9, MON, 1), "LaborDay", "National");
    ADD(nth_weekday(y, 10, MON, 2), "ColumbusDay", "National");
    ADD(day_of(y, 10, 31), "Halloween", "Cultural");
    ADD(day_of(y, 11, 11), "VeteransDay", "National");
    ADD(nth_weekday(y, 11, THU, 4), "Thanksgiving", "National");
    ADD(day_of(y, 12, 25), "Christmas", "National");
#undef ADD
    /* The organisers' file lists Easter first in 2014 (the one year Western
     * and Orthodox Easter coincide since 2011 apart from 2011 itself). */
    if (y == 2014)
        for (size_t i = 0; i + 1 < n; i++)
            if (strcmp(ev[i].name, "OrthodoxEaster") == 0 && strcmp(ev[i + 1].name, "Easter") == 0) {
                event t = ev[i];
                ev[i] = ev[i + 1];
                ev[i + 1] = t;
            }
    return n;
}

/* ===== The calendar ===== */

static int snap_day(int state, int mday)
{
    static const uint16_t tx = 1u << 1 | 1u << 3 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 9 |
                               1u << 11 | 1u << 12 | 1u << 13 | 1u << 15;
    static const uint16_t wi = 1u << 2 | 1u << 3 | 1u << 5 | 1u << 6 | 1u << 8 | 1u << 9 |
                               1u << 11 | 1u << 12 | 1u << 14 | 1u << 15;
    if (mday > 15)
        return 0;
    if (state == RV_M5_CA)
        return mday <= 10;
    return ((state == RV_M5_TX ? tx : wi) >> mday) & 1;
}

/* First day (1-based) of Walmart fiscal year y: the Saturday on or before 1 Feb. */
static long fiscal_start(int y)
{
    long feb1 = day_of(y, 2, 1);
    long k = ((feb1 - 1) % 7 + 7) % 7; /* days since the last Saturday (day 1 is one) */
    return feb1 - k;
}

void rv_m5_calendar_fill(rv_m5_day *out, size_t n_days)
{
    memset(out, 0, n_days * sizeof *out);
    for (size_t i = 0; i < n_days; i++) {
        long d = (long)i + 1;
        rv_m5_day *c = &out[i];
        civil_from_days(d - 1 + DAY1_EPOCH, &c->year, &c->month, &c->mday);
        c->wday = (int)(i % 7) + 1;
        int fy = c->year + 1;
        while (fiscal_start(fy) > d)
            fy--;
        c->wm_yr_wk = 10000 + (fy % 100) * 100 + (int)((d - fiscal_start(fy)) / 7) + 1;
        for (int s = 0; s < RV_M5_NSTATES; s++)
            c->snap[s] = (uint8_t)snap_day(s, c->mday);
    }
    if (n_days == 0)
        return;
    event ev[64];
    for (int y = out[0].year; y <= out[n_days - 1].year; y++) {
        size_t n = year_events(y, ev);
        for (size_t k = 0; k < n; k++) {
            if (ev[k].day < 1 || ev[k].day > (long)n_days)
                continue;
            rv_m5_day *c = &out[ev[k].day - 1];
            int slot = c->event_name[0] ? 1 : 0;
            if (c->event_name[slot])
                continue;
            c->event_name[slot] = ev[k].name;
            c->event_type[slot] = ev[k].type;
        }
    }
}
