//! The processor's configuration (see README: "Configuration").

use order_common::{
    api::service_token::ServiceTokens,
    runtime::config::{ConfigError, Env},
    service::CommonConfig,
    storage::schema::{INVENTORY_TABLE, ORDERS_TABLE, RESERVATIONS_TABLE},
};

#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    pub common: CommonConfig,
    /// `INVENTORY_TABLE`, default `inventory`.
    pub inventory_table: String,
    /// `RESERVATIONS_TABLE`, default `reservations`.
    pub reservations_table: String,
    /// `ORDERS_TABLE`, default `orders`: order-api's table, whose pending
    /// record the reservation transaction finishes when asked.
    pub orders_table: String,
    /// `PROCESSOR_TOKENS` or `PROCESSOR_TOKENS_FILE`: the credentials it accepts.
    pub tokens: ServiceTokens,
}

impl ProcessorConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            inventory_table: INVENTORY_TABLE.read(env)?,
            reservations_table: RESERVATIONS_TABLE.read(env)?,
            orders_table: ORDERS_TABLE.read(env)?,
            tokens: ServiceTokens::from_env(env)?,
        })
    }
}
