"""Checks what `terraform apply` created in moto (or that `destroy` removed it).

Usage: verify.py ENDPOINT REGION NAME applied|stock-taken|destroyed

  applied      the resources exist with the properties the deployment promises,
               and the processor token is in SSM but not in the state (read from
               terraform.tfstate in the working directory: moto_ecs runs this
               from the root's copy)
  stock-taken  writes stock like an order would (PROD001: 100 -> 97), for the
               plan that must then leave it alone
  destroyed    nothing of NAME is left
Prints one line per check; exits 1 if any failed.
"""

import re
import sys

import boto3

endpoint, region, name, stage = sys.argv[1:5]
session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)


def client(service):
    return session.client(service, endpoint_url=endpoint)


failures = 0


def check(description, condition):
    global failures
    print(("ok   " if condition else "FAIL ") + description)
    if not condition:
        failures += 1


dynamodb = client("dynamodb")
tables = [f"{name}-orders", f"{name}-inventory", f"{name}-reservations"]

if stage == "applied":
    orders = dynamodb.describe_table(TableName=tables[0])["Table"]
    check("orders table keyed by order_id", orders["KeySchema"] == [{"AttributeName": "order_id", "KeyType": "HASH"}])
    indexes = {index["IndexName"]: [key["AttributeName"] for key in index["KeySchema"]] for index in orders["GlobalSecondaryIndexes"]}
    check(
        "orders indexes: customer_id/created_at and pending_action/created_at",
        indexes == {"customer_id-created_at-index": ["customer_id", "created_at"], "pending_shard-created_at-index": ["pending_shard", "created_at"]},
    )
    for table in tables[1:]:
        check(f"{table} exists", dynamodb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE")
    seed = dynamodb.get_item(TableName=tables[1], Key={"product_id": {"S": "PROD001"}}).get("Item", {})
    check("PROD001 seeded with price 29, stock 100", seed.get("price") == {"N": "29"} and seed.get("stock") == {"N": "100"})

    ec2 = client("ec2")
    templates = ec2.describe_launch_templates(Filters=[{"Name": "launch-template-name", "Values": [f"{name}-*"]}])["LaunchTemplates"]
    data = ec2.describe_launch_template_versions(LaunchTemplateId=templates[0]["LaunchTemplateId"])["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    metadata = data["MetadataOptions"]
    check("launch template: IMDSv2 required, hop limit 1", metadata["HttpTokens"] == "required" and metadata["HttpPutResponseHopLimit"] == 1)
    check("launch template: encrypted root volume", all(device["Ebs"]["Encrypted"] for device in data["BlockDeviceMappings"]))
    check("launch template: no key pair", "KeyName" not in data)

    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["SecurityGroups"]
    open_ingress = [
        (group["GroupName"], permission.get("FromPort"), permission.get("ToPort"))
        for group in groups
        for permission in group["IpPermissions"]
        if any(ip_range.get("CidrIp") == "0.0.0.0/0" for ip_range in permission.get("IpRanges", []))
    ]
    check(f"only the ALB takes traffic from 0.0.0.0/0, on :80 ({open_ingress})", open_ingress == [(f"{name}-alb", 80, 80)])
    check("no NAT gateway", ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["NatGateways"] == [])
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["VpcEndpoints"]
    check("only gateway VPC endpoints (DynamoDB, S3)", sorted((e["ServiceName"].split(".")[-1], e["VpcEndpointType"]) for e in endpoints) == [("dynamodb", "Gateway"), ("s3", "Gateway")])

    ssm = client("ssm")
    token_parameter = f"/{name}/processor-tokens"
    parameter = ssm.get_parameter(Name=token_parameter, WithDecryption=True)["Parameter"]
    token = parameter["Value"]
    description = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [token_parameter]}])["Parameters"][0]
    check(
        f"{token_parameter}: Standard SecureString under alias/aws/ssm",
        parameter["Type"] == "SecureString" and description.get("KeyId") == "alias/aws/ssm" and description.get("Tier") == "Standard",
    )
    check("the processor token is 64 letters and digits (Secrets Manager GetRandomPassword)", re.fullmatch(r"[A-Za-z0-9]{64}", token) is not None)
    with open("terraform.tfstate") as state:
        check("the processor token is nowhere in the Terraform state", token not in state.read())

    ecs = client("ecs")
    cluster = ecs.describe_clusters(clusters=[name])["clusters"][0]
    check("cluster uses the capacity provider", cluster["capacityProviders"] == [name])
    services = ecs.describe_services(cluster=name, services=["order-api", "order-processor"])["services"]
    check("both services exist", sorted(service["serviceName"] for service in services) == ["order-api", "order-processor"])
    for service in services:
        task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
        container = task["containerDefinitions"][0]
        check(
            f"{service['serviceName']}: bridge mode, dynamic host port, read-only root, user 65532",
            task["networkMode"] == "bridge"
            and container["portMappings"][0]["hostPort"] == 0
            and container["readonlyRootFilesystem"]
            and container["user"] == "65532:65532",
        )
        environment = {variable["name"]: variable["value"] for variable in container["environment"]}
        check(
            f"{service['serviceName']}: PROCESSOR_TOKENS from the parameter, not the environment",
            container.get("secrets") == [{"name": "PROCESSOR_TOKENS", "valueFrom": parameter["ARN"]}] and "PROCESSOR_TOKENS" not in environment,
        )
        check(
            f"{service['serviceName']}: MANAGEMENT_PORT 9464, mapped to no host port",
            environment.get("MANAGEMENT_PORT") == "9464" and [mapping["containerPort"] for mapping in container["portMappings"]] == [8000],
        )
        role = task["executionRoleArn"].split("/")[-1]
        statements = client("iam").get_role_policy(RoleName=role, PolicyName="read-secrets")["PolicyDocument"]["Statement"]
        check(
            f"{service['serviceName']}: execution role reads only that parameter",
            [(statement["Action"], statement["Resource"]) for statement in statements] == [(["ssm:GetParameters"], [parameter["ARN"]])],
        )

    elbv2 = client("elbv2")
    balancer = elbv2.describe_load_balancers(Names=[name])["LoadBalancers"][0]
    listeners = elbv2.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    check("ALB listens on :80 only", [listener["Port"] for listener in listeners] == [80])
    groups = elbv2.describe_target_groups(LoadBalancerArn=balancer["LoadBalancerArn"])["TargetGroups"]
    check(
        "one target group, on the API port, checking /health/ready",
        len(groups) == 1 and groups[0]["Port"] == 8000 and groups[0]["HealthCheckPath"] == "/health/ready" and groups[0]["HealthCheckPort"] == "traffic-port",
    )

    discovery = client("servicediscovery")
    records = [service["DnsConfig"]["DnsRecords"][0]["Type"] for service in discovery.list_services()["Services"] if service["Name"] == "order-processor"]
    check("order-processor is published with SRV records", records == ["SRV"])

    alarms = client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{name}-")["MetricAlarms"]
    check(f"4 CloudWatch alarms ({len(alarms)})", len(alarms) == 4)

    roles = [role["RoleName"] for role in client("iam").list_roles()["Roles"] if role["RoleName"].startswith(f"{name}-")]
    check(f"5 IAM roles: instance, and execution + task per service ({len(roles)})", len(roles) == 5)
elif stage == "stock-taken":
    dynamodb.update_item(
        TableName=tables[1],
        Key={"product_id": {"S": "PROD001"}},
        UpdateExpression="SET stock = stock - :q",
        ExpressionAttributeValues={":q": {"N": "3"}},
    )
    stock = dynamodb.get_item(TableName=tables[1], Key={"product_id": {"S": "PROD001"}})["Item"]["stock"]
    check("an order took 3 of PROD001 (stock 97)", stock == {"N": "97"})
elif stage == "destroyed":
    check("no table left", [table for table in dynamodb.list_tables()["TableNames"] if table.startswith(name)] == [])
    check("no load balancer left", client("elbv2").describe_load_balancers()["LoadBalancers"] == [])
    active = [cluster for cluster in client("ecs").describe_clusters(clusters=[name])["clusters"] if cluster["status"] == "ACTIVE"]
    check("no active cluster left", active == [])
    check("no Auto Scaling group left", client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"] == [])
    check("no VPC left", client("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"] == [])
    check("no role left", [role for role in client("iam").list_roles()["Roles"] if role["RoleName"].startswith(f"{name}-")] == [])
    # Account-wide, and maybe in use elsewhere: destroy leaves it.
    check("ECS's service-linked role kept", "AWSServiceRoleForECS" in [role["RoleName"] for role in client("iam").list_roles()["Roles"]])
    check("no processor token parameter left",
          client("ssm").describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "BeginsWith", "Values": [f"/{name}/"]}])["Parameters"] == [])
else:
    sys.exit(f"unknown stage {stage}")

sys.exit(1 if failures else 0)
