//! Timestamps as the API shows them: RFC 3339, UTC, millisecond precision.

use time::{
    OffsetDateTime, format_description::FormatItem, format_description::well_known::Rfc3339,
    macros::format_description,
};

/// Always three fractional digits and a `Z`.
const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// Now, formatted. Millisecond precision keeps the string length fixed, so the
/// strings sort in time order (the customer index relies on it).
pub fn now_rfc3339() -> String {
    format(OffsetDateTime::now_utc())
}

pub fn format(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .expect("every UTC time formats")
}

pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_width_and_round_trip() {
        let at = time::macros::datetime!(2026-01-02 03:04:05 UTC);
        assert_eq!(format(at), "2026-01-02T03:04:05.000Z");
        let at = time::macros::datetime!(2026-01-02 03:04:05.120_999 UTC);
        assert_eq!(format(at), "2026-01-02T03:04:05.120Z");
        assert_eq!(
            parse("2026-01-02T03:04:05.120Z").unwrap().millisecond(),
            120
        );
    }
}
