//! `ensure-tables`: create the tables that are missing and seed the products
//! into an inventory table that has none; with `--watch`, do it again every
//! few seconds until stopped.
//!
//! The watch exists for DynamoDB Local: in memory, or on a wiped volume, it
//! comes back from a restart with no tables, and a one-off setup job would
//! leave the services unready until someone ran it again. Seeding only an
//! empty inventory gives a restarted DynamoDB Local a fresh one, and never
//! touches stock (or a deleted product) in a table that survived.
//!
//! "Empty", not "created by this process": a CreateTable whose answer is lost
//! (DynamoDB Local still warming up) is retried by the SDK and then answered
//! "already exists", so the creator cannot always tell it created the table.

use std::time::Duration;

use clap::Args;
use order_common::{
    runtime::config::Env,
    storage::dynamo::{DynamoConfig, StoreError, connect},
    storage::schema::{
        Created, PENDING_INDEX, Seeded, TableNames, TableSpec, assign_pending_shards, create_table,
        seed_product, seed_products,
    },
};
use tokio::signal::unix::{SignalKind, signal};

#[derive(Args)]
pub struct EnsureArgs {
    /// Check again every SECONDS (1-3600) until SIGTERM or Ctrl-C, instead of once.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    watch: Option<u64>,
    /// How long to wait for a new table to become ACTIVE.
    #[arg(long, default_value = "120", value_parser = clap::value_parser!(u64).range(1..=3600))]
    wait_seconds: u64,
}

pub async fn run(args: EnsureArgs) -> anyhow::Result<bool> {
    let env = Env::process();
    // Configuration errors end the command even with --watch: waiting would not fix them.
    let client = connect(&DynamoConfig::from_env(&env)?).await?;
    let names = TableNames::from_env(&env)?;
    let specs = TableSpec::all(&names);
    let wait = Duration::from_secs(args.wait_seconds);
    let listed = specs
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");

    // Listening from the start: a SIGTERM that arrives during a pass is taken
    // once the pass is done, so a seed that has begun is finished.
    // (As PID 1 in a container, a process without a handler ignores SIGTERM
    // and the kubelet has to wait out the grace period.)
    let mut terminate = match args.watch {
        Some(seconds) => {
            println!("ensure-tables: checking {listed} every {seconds} s");
            Some(signal(SignalKind::terminate())?)
        }
        None => None,
    };
    // A seed was interrupted (PROD001 written, PROD002 not): the next pass
    // finishes it although the table is no longer empty.
    let mut seed_pending = false;
    // Whether the last pass failed (and said so): one message per outage, not
    // one per pass, and one when DynamoDB answers again.
    let mut failing = false;

    loop {
        let pass = async {
            let mut changes = 0;
            for spec in &specs {
                // CreateTable is the existence check itself: one call, and no
                // window between a check and a create for a second keeper.
                match create_table(&client, spec, wait).await? {
                    Created::Created => {
                        println!("table {}: created, ACTIVE", spec.name);
                        changes += 1;
                    }
                    Created::IndexesAdded(indexes) => {
                        println!("table {}: added {}, ACTIVE", spec.name, indexes.join(", "));
                        changes += 1;
                        // The upgrade from an unsharded pending index: the
                        // orders pending under it move to the new one, once.
                        if indexes.contains(&PENDING_INDEX) {
                            let moved = assign_pending_shards(&client, &spec.name).await?;
                            println!(
                                "table {}: {moved} pending orders given their index shard",
                                spec.name
                            );
                        }
                    }
                    Created::AlreadyExisted => {}
                }
            }
            let any_product = client
                .scan()
                .table_name(&names.inventory)
                .limit(1)
                .send()
                .await
                .map_err(StoreError::from)?;
            if seed_pending || any_product.count() == 0 {
                seed_pending = true;
                for product in seed_products() {
                    let verb =
                        match seed_product(&client, &names.inventory, &product, false).await? {
                            Seeded::Written => format!("written (stock {})", product.stock),
                            Seeded::KeptExisting => "exists, stock kept".to_owned(),
                        };
                    println!("product {}: {verb}", product.product_id);
                    changes += 1;
                }
                seed_pending = false;
            }
            anyhow::Ok(changes)
        }
        .await;

        let Some(seconds) = args.watch else {
            if pass? == 0 {
                println!("tables {listed}: all present");
            }
            return Ok(true);
        };
        match pass {
            Ok(_) if failing => {
                println!("ensure-tables: DynamoDB answers again");
                failing = false;
            }
            Ok(_) => {}
            // DynamoDB Local starting, restarting or unreachable: try again
            // next round, quietly.
            Err(err) if !failing => {
                eprintln!(
                    "ensure-tables: waiting for DynamoDB (retrying every {seconds} s): {err:#}"
                );
                failing = true;
            }
            Err(_) => {}
        }
        let terminate = terminate.as_mut().expect("set with --watch");
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(seconds)) => {}
            _ = terminate.recv() => return Ok(true),
            _ = tokio::signal::ctrl_c() => return Ok(true),
        }
    }
}
