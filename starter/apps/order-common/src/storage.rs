//! DynamoDB: the client and its errors ([`dynamo`]), item attributes
//! ([`item`]) and the tables ([`schema`]). It uses [`crate::runtime`] only;
//! it knows nothing of HTTP.

pub mod dynamo;
pub mod item;
pub mod schema;
