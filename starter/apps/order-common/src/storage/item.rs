//! Reading and writing the attributes of a DynamoDB item.

use aws_sdk_dynamodb::types::AttributeValue;

/// A DynamoDB item.
pub type Item = std::collections::HashMap<String, AttributeValue>;

/// A string attribute of an item.
pub fn string(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

/// An integer attribute of an item.
pub fn integer(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// The attribute value of a string.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The attribute value of an integer.
pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
