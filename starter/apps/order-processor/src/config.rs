//! The processor's configuration (see README: "Configuration").

use order_common::{
    runtime::config::{ConfigError, Env},
    service::CommonConfig,
    storage::schema::{INVENTORY_TABLE, RESERVATIONS_TABLE},
};

#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    pub common: CommonConfig,
    /// `INVENTORY_TABLE`, default `inventory`.
    pub inventory_table: String,
    /// `RESERVATIONS_TABLE`, default `reservations`.
    pub reservations_table: String,
}

impl ProcessorConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            inventory_table: INVENTORY_TABLE.read(env)?,
            reservations_table: RESERVATIONS_TABLE.read(env)?,
        })
    }
}
