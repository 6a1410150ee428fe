//! Dates without a library: civil-calendar arithmetic on `YYYY-MM-DD` days, and the few
//! conversions from the browser's clock and from record timestamps the screens need. The
//! core's dates are local and carry no zone (`YYYY-MM-DDTHH:MM`), so this is all local too.

use wasm_bindgen::JsValue;

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    /// Year.
    pub y: i32,
    /// Month, 1–12.
    pub m: u32,
    /// Day of the month, 1–31.
    pub d: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl Day {
    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    pub fn number(self) -> i64 {
        let y = i64::from(self.y) - i64::from(self.m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.m);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The day `n` days after 1970-01-01 (`civil_from_days`).
    pub fn from_number(n: i64) -> Self {
        let z = n + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        Self {
            y: i32::try_from(y).unwrap_or(1970),
            m: u32::try_from(m).unwrap_or(1),
            d: u32::try_from(d).unwrap_or(1),
        }
    }

    /// `n` days later (earlier when negative).
    pub fn plus(self, n: i64) -> Self {
        Self::from_number(self.number() + n)
    }

    /// 0 for Monday … 6 for Sunday.
    pub fn weekday(self) -> usize {
        // 1970-01-01 was a Thursday (3).
        usize::try_from((self.number() + 3).rem_euclid(7)).unwrap_or(0)
    }

    /// The Monday of this day's week.
    pub fn monday(self) -> Self {
        self.plus(-i64::try_from(self.weekday()).unwrap_or(0))
    }

    /// `YYYY-MM-DD`, or `None` if it is not a real day.
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.get(..10)?.splitn(3, '-');
        let y: i32 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let d: u32 = it.next()?.parse().ok()?;
        let day = Self { y, m, d };
        (Self::from_number(day.number()) == day).then_some(day)
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.y, self.m, self.d)
    }

    /// "Tue 10 Mar".
    pub fn short(self) -> String {
        format!(
            "{} {} {}",
            WEEKDAYS[self.weekday()],
            self.d,
            MONTHS[(self.m as usize).saturating_sub(1) % 12]
        )
    }

    /// "10 Mar 2026".
    pub fn long(self) -> String {
        format!(
            "{} {} {}",
            self.d,
            MONTHS[(self.m as usize).saturating_sub(1) % 12],
            self.y
        )
    }

    /// Three-letter weekday name.
    pub fn weekday_name(self) -> &'static str {
        WEEKDAYS[self.weekday()]
    }
}

/// Today on this computer's clock.
pub fn today() -> Day {
    let now = js_sys::Date::new_0();
    Day {
        y: i32::try_from(now.get_full_year()).unwrap_or(1970),
        m: now.get_month() + 1,
        d: now.get_date(),
    }
}

/// Now as local `YYYY-MM-DDTHH:MM`.
pub fn now_local() -> String {
    let now = js_sys::Date::new_0();
    format!(
        "{}T{:02}:{:02}",
        today().iso(),
        now.get_hours(),
        now.get_minutes()
    )
}

/// Minutes after midnight of a local `YYYY-MM-DDTHH:MM`.
pub fn minutes_of(start: &str) -> Option<u32> {
    let (h, m) = start.get(11..16)?.split_once(':')?;
    Some(h.parse::<u32>().ok()? * 60 + m.parse::<u32>().ok()?)
}

/// `HH:MM` of a local `YYYY-MM-DDTHH:MM`.
pub fn clock_of(start: &str) -> &str {
    start.get(11..16).unwrap_or(start)
}

/// "Tue 10 Mar 2026, 10:00" for a local `YYYY-MM-DDTHH:MM`.
pub fn when(start: &str) -> String {
    match Day::parse(start) {
        Some(d) => format!("{} {}, {}", d.short(), d.y, clock_of(start)),
        None => start.to_string(),
    }
}

fn local_of(d: &js_sys::Date) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// An RFC 3339 time as local `YYYY-MM-DD HH:MM` (the raw text if it does not parse).
pub fn local_time(rfc3339: &str) -> String {
    let d = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if d.get_time().is_nan() {
        return rfc3339.to_string();
    }
    local_of(&d)
}

/// An RFC 3339 time as local `HH:MM` (the raw text if it does not parse).
pub fn local_clock(rfc3339: &str) -> String {
    let d = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if d.get_time().is_nan() {
        return rfc3339.to_string();
    }
    format!("{:02}:{:02}", d.get_hours(), d.get_minutes())
}

/// Milliseconds from now until an RFC 3339 time (negative when past; `None` if unparsable).
pub fn millis_until(rfc3339: &str) -> Option<f64> {
    let t = js_sys::Date::new(&JsValue::from_str(rfc3339)).get_time();
    (!t.is_nan()).then(|| t - js_sys::Date::now())
}

/// Unix seconds as local `YYYY-MM-DD HH:MM`.
pub fn local_unix(secs: i64) -> String {
    // Seconds since 1970 fit an f64 exactly.
    #[allow(clippy::cast_precision_loss)]
    let ms = secs as f64 * 1000.0;
    local_of(&js_sys::Date::new(&JsValue::from_f64(ms)))
}
