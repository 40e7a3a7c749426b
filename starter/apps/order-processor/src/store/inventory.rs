//! Products in the inventory table, and the inventory's part of the two
//! transactions: taking stock for an order, giving it back.

use aws_sdk_dynamodb::{
    error::ProvideErrorMetadata,
    types::{ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update},
};
use order_common::{
    api::contract::OrderLine,
    storage::{
        dynamo::{StoreError, get_item, observe},
        item::{Item, integer, n, s, string},
        schema::Product,
    },
};

use super::Store;

impl Store {
    pub async fn product(&self, product_id: &str) -> Result<Option<Product>, StoreError> {
        let item = get_item(&self.client, &self.inventory, "product_id", product_id).await?;
        Ok(item.as_ref().map(product_from_item))
    }

    /// One page of products, at most `limit`, after `after` (a product id).
    pub async fn products(
        &self,
        limit: i32,
        after: Option<&str>,
    ) -> Result<(Vec<Product>, Option<String>), StoreError> {
        let mut scan = self.client.scan().table_name(&self.inventory).limit(limit);
        if let Some(after) = after {
            scan = scan.exclusive_start_key("product_id", s(after));
        }
        let output = observe("Scan", &self.inventory, scan.send()).await?;
        let products = output.items().iter().map(product_from_item).collect();
        let next = output
            .last_evaluated_key()
            .and_then(|key| string(key, "product_id"));
        Ok((products, next))
    }

    /// Creates or replaces a product.
    pub async fn put_product(&self, product: &Product) -> Result<(), StoreError> {
        observe(
            "PutItem",
            &self.inventory,
            self.client
                .put_item()
                .table_name(&self.inventory)
                .item("product_id", s(&product.product_id))
                .item("name", s(&product.name))
                .item("price", n(product.price))
                .item("stock", n(product.stock))
                .send(),
        )
        .await?;
        Ok(())
    }

    /// Adds stock atomically; `None` when the product does not exist.
    pub async fn restock(
        &self,
        product_id: &str,
        quantity: i64,
    ) -> Result<Option<Product>, StoreError> {
        let result = observe(
            "UpdateItem",
            &self.inventory,
            self.client
                .update_item()
                .table_name(&self.inventory)
                .key("product_id", s(product_id))
                .update_expression("SET stock = stock + :q")
                .condition_expression("attribute_exists(product_id)")
                .expression_attribute_values(":q", n(quantity))
                .return_values(ReturnValue::AllNew)
                .send(),
        )
        .await;
        match result {
            Ok(output) => Ok(output.attributes().map(product_from_item)),
            Err(err) if err.code() == Some("ConditionalCheckFailedException") => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Takes `line`'s quantity from the stock, on the condition that the
    /// product exists, still costs `price` and has enough. When it fails,
    /// DynamoDB returns the product as it is, which says which of the three
    /// it was.
    pub(super) fn take_stock(&self, line: &OrderLine, price: i64) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.inventory)
            .key("product_id", s(&line.product_id))
            .update_expression("SET stock = stock - :q")
            .condition_expression("attribute_exists(product_id) AND price = :price AND stock >= :q")
            .expression_attribute_values(":q", n(line.quantity))
            .expression_attribute_values(":price", n(price))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .expect("required fields are set");
        TransactWriteItem::builder().update(update).build()
    }

    /// Puts `quantity` back into a product's stock, if the product still exists.
    pub(super) fn give_back(&self, product_id: &str, quantity: i64) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(&self.inventory)
            .key("product_id", s(product_id))
            .update_expression("SET stock = stock + :q")
            .condition_expression("attribute_exists(product_id)")
            .expression_attribute_values(":q", n(quantity))
            .build()
            .expect("required fields are set");
        TransactWriteItem::builder().update(update).build()
    }
}

fn product_from_item(item: &Item) -> Product {
    Product {
        product_id: string(item, "product_id").unwrap_or_default(),
        name: string(item, "name").unwrap_or_default(),
        price: integer(item, "price").unwrap_or_default(),
        stock: integer(item, "stock").unwrap_or_default(),
    }
}
