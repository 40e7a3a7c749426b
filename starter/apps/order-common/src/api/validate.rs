//! Request bodies: content type, size, JSON syntax, then every field checked
//! with all the mistakes reported at once.
//!
//! Bodies are read as a JSON object first and their fields checked one by one
//! (rather than deserialised straight into a struct) so an answer can list
//! every wrong field, say what each one should be, and refuse fields the API
//! does not know instead of silently ignoring a typo.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::api::{contract::ProblemKind, problem::Problem};

/// The largest request body accepted, in bytes. An order is under 200 bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// The largest quantity one order may ask for: a sanity bound that stops a
/// typo from reserving a warehouse.
pub const MAX_QUANTITY: i64 = 1000;
/// Identifiers (product, customer, order): 1 to 64 characters.
pub const MAX_ID_LEN: usize = 64;
/// What an identifier may contain besides ASCII letters and digits. The
/// hyphen comes last so that the OpenAPI pattern's character class
/// ([`id_pattern`]) reads it literally.
pub const ID_PUNCTUATION: &str = "_.:-";
/// The most items a page of a list answer holds (`limit`).
pub const MAX_PAGE: i32 = 100;
/// The characters that do not count as text: a name made only of these is
/// blank. Listed rather than Unicode's whitespace, whose extent differs
/// between regular expression engines, so that the OpenAPI pattern
/// ([`not_blank_pattern`]) and [`Fields::text`] agree on every string.
pub const BLANK: &[char] = &['\t', '\n', '\x0C', '\r', ' '];

/// A request body that is a JSON object, sent as `application/json`.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(Problem::new(
                ProblemKind::UnsupportedMediaType,
                format!("send the body as application/json (got {:?})", content_type),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Problem::new(
                    ProblemKind::BodyTooLarge,
                    format!("the body must be at most {MAX_BODY_BYTES} bytes"),
                )
            } else {
                Problem::bad_request(format!("could not read the body: {rejection}"))
            }
        })?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(invalid(vec![FieldError::new(
                "",
                "the body must be a JSON object",
            )])),
            Err(err) => Err(Problem::bad_request(format!(
                "the body is not valid JSON: {err}"
            ))),
        }
    }
}

/// One invalid input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The body field, query parameter, path parameter or header at fault;
    /// empty when the body as a whole is wrong (not a JSON object).
    pub field: String,
    /// What the input must be.
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// The 422 answer listing every invalid field.
pub fn invalid(errors: Vec<FieldError>) -> Problem {
    let detail = errors
        .iter()
        .map(|e| {
            if e.field.is_empty() {
                e.message.clone()
            } else {
                format!("{}: {}", e.field, e.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let list = serde_json::to_value(&errors).expect("field errors serialise");
    Problem::new(ProblemKind::ValidationError, detail).with("errors", list)
}

/// The pattern of an identifier, as the OpenAPI documents state it; the
/// same rule as [`check_id`], from the same constants.
pub fn id_pattern() -> String {
    format!("^{}$", id_class())
}

/// [`id_pattern`] without its anchors, for patterns that contain an id.
pub fn id_class() -> String {
    format!("[A-Za-z0-9{ID_PUNCTUATION}]{{1,{MAX_ID_LEN}}}")
}

/// The pattern of a string that is not blank: it holds a character outside
/// [`BLANK`].
pub fn not_blank_pattern() -> String {
    // `\uXXXX` reads the same in ECMA-262 and Python regular expressions.
    let blank: String = BLANK
        .iter()
        .map(|c| format!("\\u{:04x}", u32::from(*c)))
        .collect();
    format!("[^{blank}]")
}

/// Checks an identifier: 1–64 characters of `A-Z a-z 0-9 _ - . :`. These
/// end up in keys, logs and URLs, so anything else is refused.
pub fn check_id(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.chars().count() > MAX_ID_LEN {
        return Err(format!("must be at most {MAX_ID_LEN} characters"));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ID_PUNCTUATION.contains(c))
    {
        return Err("may contain only letters, digits and _ - . :".into());
    }
    Ok(())
}

/// Checks the `limit` of a list: an integer from 1 to [`MAX_PAGE`].
pub fn check_limit(value: &str) -> Result<i32, String> {
    match value.parse::<i32>() {
        Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        _ => Err(format!("must be an integer from 1 to {MAX_PAGE}")),
    }
}

/// Reads the fields of a JSON object, collecting every problem.
pub struct Fields {
    map: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl Fields {
    pub fn new(JsonObject(map): JsonObject) -> Self {
        Self {
            map,
            errors: Vec::new(),
        }
    }

    /// Removes a required field; a missing or null one is an error.
    fn take(&mut self, name: &str) -> Option<Value> {
        match self.map.remove(name) {
            Some(Value::Null) | None => {
                self.errors.push(FieldError::new(name, "is required"));
                None
            }
            Some(value) => Some(value),
        }
    }

    /// A required identifier (see [`check_id`]).
    pub fn id(&mut self, name: &str) -> Option<String> {
        match self.take(name)? {
            Value::String(text) => match check_id(&text) {
                Ok(()) => Some(text),
                Err(message) => {
                    self.errors.push(FieldError::new(name, message));
                    None
                }
            },
            _ => {
                self.errors.push(FieldError::new(name, "must be a string"));
                None
            }
        }
    }

    /// An optional identifier: `None` when absent or null, and when invalid
    /// (then [`Fields::finish`] reports it).
    pub fn optional_id(&mut self, name: &str) -> Option<String> {
        match self.map.get(name) {
            None | Some(Value::Null) => {
                self.map.remove(name);
                None
            }
            Some(_) => self.id(name),
        }
    }

    /// An optional boolean: `false` when absent.
    pub fn flag(&mut self, name: &str) -> bool {
        match self.map.remove(name) {
            None => false,
            Some(Value::Bool(flag)) => flag,
            Some(_) => {
                self.errors
                    .push(FieldError::new(name, "must be true or false"));
                false
            }
        }
    }

    /// A required string of 1..=`max` characters, not all [`BLANK`].
    pub fn text(&mut self, name: &str, max: usize) -> Option<String> {
        match self.take(name)? {
            Value::String(text)
                if text.contains(|c| !BLANK.contains(&c)) && text.chars().count() <= max =>
            {
                Some(text)
            }
            Value::String(_) => {
                self.errors.push(FieldError::new(
                    name,
                    format!("must be 1 to {max} characters, not all blank"),
                ));
                None
            }
            _ => {
                self.errors.push(FieldError::new(name, "must be a string"));
                None
            }
        }
    }

    /// A required integer within `min..=max`. `2.0` is the integer 2 (JSON
    /// has one number type, and JSON Schema's `integer` is any number with
    /// no fraction), but `2.5` and `"2"` are refused.
    pub fn integer(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        let value = self.take(name)?;
        let integral = value.as_i64().or_else(|| {
            // Range first: only then is the conversion exact.
            value
                .as_f64()
                .filter(|n| n.fract() == 0.0 && (min as f64..=max as f64).contains(n))
                .map(|n| n as i64)
        });
        match integral {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.errors.push(FieldError::new(
                    name,
                    format!("must be an integer from {min} to {max}"),
                ));
                None
            }
        }
    }

    /// Ends reading: unknown fields are errors too.
    pub fn finish(self) -> Result<(), Problem> {
        let mut errors = self.errors;
        let mut unknown: Vec<&String> = self.map.keys().collect();
        unknown.sort();
        errors.extend(
            unknown
                .into_iter()
                .map(|name| FieldError::new(name, "is not a known field")),
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(invalid(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Fields {
        Fields::new(JsonObject(value.as_object().unwrap().clone()))
    }

    #[test]
    fn the_id_pattern_is_the_id_rule() {
        assert_eq!(id_pattern(), "^[A-Za-z0-9_.:-]{1,64}$");
        assert_eq!(not_blank_pattern(), r"[^\u0009\u000a\u000c\u000d\u0020]");
    }

    #[test]
    fn ids_are_bounded_and_safe() {
        assert!(check_id("PROD-001_a.b:c").is_ok());
        assert!(check_id("").is_err());
        assert!(check_id(&"x".repeat(65)).is_err());
        assert!(check_id("a b").is_err());
        assert!(check_id("a/b").is_err());
        assert!(check_id("é").is_err());
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let mut f = fields(json!({"product_id": 5, "quantity": 0, "extra": true}));
        assert!(f.id("product_id").is_none());
        assert!(f.integer("quantity", 1, 10).is_none());
        assert!(f.id("customer_id").is_none());
        let problem = f.finish().unwrap_err();
        assert_eq!(problem.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let fields: Vec<String> = problem.extensions["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(fields, ["product_id", "quantity", "customer_id", "extra"]);
    }

    #[test]
    fn text_is_bounded_and_not_blank() {
        for (text, ok) in [
            ("a", true),
            ("\u{a0}", true),
            (" \t\r\n\x0C", false),
            ("", false),
        ] {
            let mut f = fields(json!({ "t": text }));
            assert_eq!(f.text("t", 3).is_some(), ok, "{text:?}");
        }
        let mut f = fields(json!({ "t": "abcd" }));
        assert!(f.text("t", 3).is_none());
    }

    #[test]
    fn integers_must_be_integers_in_range() {
        for bad in [
            json!(-1),
            json!(0),
            json!(11),
            json!(1.5),
            json!("2"),
            json!(true),
            json!(1e30),
        ] {
            let mut f = fields(json!({ "q": bad }));
            assert!(f.integer("q", 1, 10).is_none(), "{bad} was accepted");
        }
        for (good, n) in [(json!(10), 10), (json!(2.0), 2), (json!(1e1), 10)] {
            let mut f = fields(json!({ "q": good }));
            assert_eq!(f.integer("q", 1, 10), Some(n), "{good}");
            assert!(f.finish().is_ok());
        }
    }
}
