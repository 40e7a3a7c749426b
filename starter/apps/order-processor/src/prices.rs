//! The last price seen for each product, so that processing an order takes
//! one DynamoDB call (the reservation transaction) instead of two (a read of
//! the product, then the transaction).
//!
//! A remembered price is never trusted, only tried: the transaction's
//! condition includes `price = :price`, so an order is charged exactly the
//! price the product had at the moment its stock was taken. When the price
//! changed, the condition fails, DynamoDB returns the current item, the new
//! price is remembered and the decision is made again. Staleness therefore
//! costs one failed transaction, never a wrong total.

use std::{collections::HashMap, sync::Mutex};

/// More products than any catalogue this service is sized for; past it the
/// memo starts over rather than growing without bound (a miss costs a read).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct KnownPrices {
    prices: Mutex<HashMap<String, i64>>,
}

impl KnownPrices {
    pub fn get(&self, product_id: &str) -> Option<i64> {
        self.lock().get(product_id).copied()
    }

    pub fn remember(&self, product_id: &str, price: i64) {
        let mut prices = self.lock();
        if prices.len() >= CAPACITY && !prices.contains_key(product_id) {
            prices.clear();
        }
        prices.insert(product_id.to_owned(), price);
    }

    pub fn forget(&self, product_id: &str) {
        self.lock().remove(product_id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, i64>> {
        // The map holds plain values: a panic elsewhere cannot leave it
        // half-written, so a poisoned lock is still safe to use.
        self.prices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_updates_and_forgets() {
        let prices = KnownPrices::default();
        assert_eq!(prices.get("P1"), None);
        prices.remember("P1", 29);
        assert_eq!(prices.get("P1"), Some(29));
        prices.remember("P1", 31);
        assert_eq!(prices.get("P1"), Some(31));
        prices.forget("P1");
        assert_eq!(prices.get("P1"), None);
    }

    #[test]
    fn stays_bounded() {
        let prices = KnownPrices::default();
        for i in 0..CAPACITY {
            prices.remember(&format!("P{i}"), 1);
        }
        assert_eq!(prices.lock().len(), CAPACITY);
        // Updating a known product does not start over...
        prices.remember("P0", 2);
        assert_eq!(prices.lock().len(), CAPACITY);
        // ...a new one past the capacity does.
        prices.remember("NEW", 3);
        assert_eq!(prices.lock().len(), 1);
        assert_eq!(prices.get("NEW"), Some(3));
    }
}
