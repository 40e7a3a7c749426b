-- wrk script: the two DynamoDB calls of one order, sent straight to
-- DynamoDB Local with no service in between, to measure how many orders per
-- second the emulator itself can absorb on this machine (bench.py's
-- "DynamoDB Local ceiling"). Same tables, items, expressions and conditions
-- as order-api and order-processor send:
--   1. PutItem of the pending order (attribute_not_exists), orders table,
--      with its pending-index shard
--   2. TransactWriteItems: stock decrement with price and stock check on the
--      inventory item + reservation record (attribute_not_exists) + the
--      order moved to confirmed (status = pending), out of the pending index
-- Both ask for ReturnConsumedCapacity=TOTAL: the write units each call
-- costs, as DynamoDB Local counts them, are summed per kind of call (the
-- capacity model of benchmarks/README.md is checked against them).
-- Requests alternate between the two; the transaction is for an order put
-- 1,000 orders (2,000 requests, a few seconds) earlier, so its put has long
-- been answered even through the emulator's pauses, every condition holds
-- and every answer must be 200. Until then the second step puts an extra
-- order. The one expected refusal is a TransactionConflict: concurrent
-- transactions on the one inventory item collide, as on AWS; the processor
-- tries those again, so they are counted apart, as retries, not as failures.
--
-- It writes to its own tables (ORDERS_TABLE, INVENTORY_TABLE,
-- RESERVATIONS_TABLE; same keys and indexes): orders it leaves pending in the
-- service's table would be picked up by order-api's reconciler.
--
-- Environment: the three table names, PRODUCT_ID and PRICE (a product of the
-- inventory table and its price), RUN_ID (makes ids unique across runs).

local product = os.getenv("PRODUCT_ID") or "BENCH001"
local price = os.getenv("PRICE") or "10"
local run = os.getenv("RUN_ID") or tostring(os.time())
local orders = os.getenv("ORDERS_TABLE") or "orders"
local inventory = os.getenv("INVENTORY_TABLE") or "inventory"
local reservations = os.getenv("RESERVATIONS_TABLE") or "reservations"
local lag = 1000
local counter = 0
-- Globals: done() reads them from each thread.
conflicts = 0
put_calls, put_units = 0, 0
transaction_calls, transaction_units = 0, 0
local threads = {}

-- wrk.format replaces wrk.headers when given headers: build the whole set.
local function headers(target)
  return {
    ["Content-Type"] = "application/x-amz-json-1.0",
    ["X-Amz-Target"] = "DynamoDB_20120810." .. target,
    -- DynamoDB Local does not verify signatures but wants their shape.
    ["Authorization"] = "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, "
      .. "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000",
    ["X-Amz-Date"] = "20260101T000000Z",
  }
end

local function order_id(n)
  return run .. "-" .. n
end

local function put_pending(n)
  return "PutItem", '{"TableName":"' .. orders .. '","Item":{'
    .. '"order_id":{"S":"' .. order_id(n) .. '"},"product_id":{"S":"' .. product .. '"},'
    .. '"quantity":{"N":"1"},"customer_id":{"S":"bench-customer"},"status":{"S":"pending"},'
    .. '"created_at":{"S":"2026-01-01T00:00:00.000Z"},"pending_action":{"S":"process"},'
    .. '"pending_shard":{"S":"process#' .. (n % 8) .. '"}},'
    .. '"ConditionExpression":"attribute_not_exists(#key)","ExpressionAttributeNames":{"#key":"order_id"},'
    .. '"ReturnValuesOnConditionCheckFailure":"ALL_OLD","ReturnConsumedCapacity":"TOTAL"}'
end

local function reserve(n)
  return "TransactWriteItems", '{"TransactItems":['
    .. '{"Update":{"TableName":"' .. inventory .. '","Key":{"product_id":{"S":"' .. product .. '"}},'
    .. '"UpdateExpression":"SET stock = stock - :q",'
    .. '"ConditionExpression":"attribute_exists(product_id) AND price = :price AND stock >= :q",'
    .. '"ExpressionAttributeValues":{":q":{"N":"1"},":price":{"N":"' .. price .. '"}},'
    .. '"ReturnValuesOnConditionCheckFailure":"ALL_OLD"}},'
    .. '{"Put":{"TableName":"' .. reservations .. '","Item":{'
    .. '"order_id":{"S":"' .. order_id(n) .. '"},"product_id":{"S":"' .. product .. '"},'
    .. '"quantity":{"N":"1"},"customer_id":{"S":"bench-customer"},'
    .. '"processed_at":{"S":"2026-01-01T00:00:00.000Z"},"total_price":{"N":"' .. price .. '"},'
    .. '"state":{"S":"reserved"}},'
    .. '"ConditionExpression":"attribute_not_exists(order_id)","ReturnValuesOnConditionCheckFailure":"ALL_OLD"}},'
    .. '{"Update":{"TableName":"' .. orders .. '","Key":{"order_id":{"S":"' .. order_id(n) .. '"}},'
    .. '"UpdateExpression":"SET #status = :confirmed, total_price = :total_price, processed_at = :processed_at '
    .. 'REMOVE pending_action, pending_shard, attempts, next_attempt_at",'
    .. '"ConditionExpression":"#status = :pending","ExpressionAttributeNames":{"#status":"status"},'
    .. '"ExpressionAttributeValues":{":confirmed":{"S":"confirmed"},":total_price":{"N":"' .. price .. '"},'
    .. '":processed_at":{"S":"2026-01-01T00:00:00.000Z"},":pending":{"S":"pending"}}}}],'
    .. '"ReturnConsumedCapacity":"TOTAL"}'
end

request = function()
  local n = math.floor(counter / 2)
  local step = counter % 2
  counter = counter + 1
  local target, body
  if step == 0 then
    target, body = put_pending(n)
  elseif n > lag then
    -- Not order 0: wrk builds one request while it sets up and never sends
    -- it, so order 0 is never put.
    target, body = reserve(n - lag)
  else
    -- The first orders have nothing old enough to decide yet: put extra ones.
    target, body = put_pending(-1 - n)
  end
  return wrk.format("POST", "/", headers(target), body)
end

setup = function(thread)
  table.insert(threads, thread)
end

local function capacity_units(body)
  local units = 0
  for value in body:gmatch('"CapacityUnits":([%d.]+)') do
    units = units + tonumber(value)
  end
  return units
end

response = function(status, _, body)
  if status == 400 and body:find("TransactionConflict", 1, true) then
    conflicts = conflicts + 1
  elseif status == 200 then
    -- A transaction answers a list of tables, a put one table.
    if body:find('"ConsumedCapacity":[', 1, true) then
      transaction_calls = transaction_calls + 1
      transaction_units = transaction_units + capacity_units(body)
    else
      put_calls = put_calls + 1
      put_units = put_units + capacity_units(body)
    end
  end
end

done = function(summary)
  local sums = {conflicts = 0, put_calls = 0, put_units = 0, transaction_calls = 0, transaction_units = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(sums) do
      sums[name] = sums[name] + thread:get(name)
    end
  end
  io.write(string.format('{"requests": %d, "duration_us": %d, "non_200": %d, "transaction_conflicts": %d, '
    .. '"put_calls": %d, "put_write_units": %.1f, "transaction_calls": %d, "transaction_write_units": %.1f}\n',
    summary.requests, summary.duration, summary.errors.status, sums.conflicts,
    sums.put_calls, sums.put_units, sums.transaction_calls, sums.transaction_units))
end
