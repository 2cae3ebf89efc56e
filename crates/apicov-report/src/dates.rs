//! Calendar dates of Unix seconds, UTC, without a date library.

/// Unix seconds → (`YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SSZ`), UTC.
pub fn utc(secs: i64) -> (String, String) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let date = format!("{y:04}-{m:02}-{d:02}");
    let time = format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    );
    (date, time)
}

/// `YYYY-MM-DD` (UTC midnight) as Unix seconds.
pub fn parse_date(date: &str) -> Option<i64> {
    let mut parts = date.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(
            super::utc(0),
            ("1970-01-01".into(), "1970-01-01T00:00:00Z".into())
        );
        assert_eq!(super::utc(1_795_687_200).1, "2026-11-26T10:00:00Z");
        assert_eq!(super::utc(951_782_400).0, "2000-02-29");
    }

    #[test]
    fn dates_parse_back() {
        for secs in [0, 951_782_400, 1_795_651_200] {
            assert_eq!(super::parse_date(&super::utc(secs).0), Some(secs));
        }
        assert_eq!(super::parse_date("2026-13-01"), None);
    }
}
