"""What template.yaml promises: least privilege, and a stream mapping that cannot lose an order."""

from __future__ import annotations

from typing import Any

from infra.template import resource_properties


def statements(template: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for policy in resource_properties(template, function_id)["Policies"]
        if "Statement" in policy
        for statement in policy["Statement"]
    ]


def test_the_webhook_may_only_put_and_update_items_in_the_orders_table(
    template: dict[str, Any],
) -> None:
    assert resource_properties(template, "WebhookFunction")["Policies"] == [
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["dynamodb:PutItem", "dynamodb:UpdateItem"],
                    "Resource": {"Fn::GetAtt": ["OrdersTable", "Arn"]},
                }
            ],
        }
    ]


def test_the_worker_may_read_and_update_orders_and_read_the_app_secret_only(
    template: dict[str, Any],
) -> None:
    policies = resource_properties(template, "FulfillmentFunction")["Policies"]

    assert statements(template, "FulfillmentFunction") == [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:UpdateItem", "dynamodb:BatchGetItem"],
            "Resource": {"Fn::GetAtt": ["OrdersTable", "Arn"]},
        }
    ]
    secret = {"Fn::If": ["CreateAppSecret", {"Ref": "WixAppSecret"}, {"Ref": "WixAppSecretArn"}]}
    assert {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": secret}} in policies


def test_the_stream_mapping_retries_finitely_then_keeps_what_failed(
    template: dict[str, Any],
) -> None:
    [mapping] = [
        event["Properties"]
        for event in resource_properties(template, "FulfillmentFunction")["Events"].values()
        if event["Type"] == "DynamoDB"
    ]

    assert mapping["Stream"] == {"Fn::GetAtt": ["OrdersTable", "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10
    assert 60 <= mapping["MaximumRecordAgeInSeconds"] <= 86_400
    assert mapping["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["FulfillmentDeadLetterQueue", "Arn"]},
    }


def test_functions_run_python_3_13_on_arm64(template: dict[str, Any]) -> None:
    function_settings = template["Globals"]["Function"]

    assert function_settings["Runtime"] == "python3.13"
    assert function_settings["Architectures"] == [{"Ref": "Architecture"}]
    assert template["Parameters"]["Architecture"]["Default"] == "arm64"


def test_every_operations_alarm_notifies_the_alarm_topic(template: dict[str, Any]) -> None:
    alarms = {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }

    assert {(a["Namespace"], a["MetricName"]) for a in alarms.values()} == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/ApiGateway", "5xx"),
        ("WixOrderFulfillment", "SitesWebhooksSilent"),
    }
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["TreatMissingData"] == "notBreaching"
    [iterator_age] = [a for a in alarms.values() if a["MetricName"] == "IteratorAge"]
    assert iterator_age["Threshold"] == 300_000


def test_the_sweep_runs_on_its_schedule_parameter_and_its_alarm_watches_its_metric(
    template: dict[str, Any],
) -> None:
    assert template["Parameters"]["ReconcileSchedule"]["Default"] == "rate(15 minutes)"
    [event] = resource_properties(template, "ReconcileFunction")["Events"].values()
    assert event == {"Type": "Schedule", "Properties": {"Schedule": {"Ref": "ReconcileSchedule"}}}
    assert statements(template, "ReconcileFunction")[0]["Action"] == [
        "dynamodb:Scan",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
    ]
    silent = resource_properties(template, "WebhooksSilentAlarm")
    assert silent["Dimensions"] == [{"Name": "service", "Value": "wix-reconcile"}]


def test_logs_are_kept_for_a_set_time_and_the_api_is_throttled(template: dict[str, Any]) -> None:
    groups = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Logs::LogGroup"
    ]
    route_settings = resource_properties(template, "WixHttpApi")["DefaultRouteSettings"]

    functions = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
    ]
    assert len(groups) == len(functions)
    assert all(group["RetentionInDays"] == {"Ref": "LogRetentionDays"} for group in groups)
    assert route_settings["ThrottlingRateLimit"] == {"Ref": "WebhookRateLimit"}


def test_only_the_status_route_needs_iam_and_the_webhook_route_is_open(
    template: dict[str, Any],
) -> None:
    def route(function_id: str) -> dict[str, Any]:
        [event] = resource_properties(template, function_id)["Events"].values()
        properties: dict[str, Any] = event["Properties"]
        return properties

    assert resource_properties(template, "WixHttpApi")["Auth"] == {"EnableIamAuthorizer": True}
    assert route("StatusFunction")["Auth"] == {"Authorizer": "AWS_IAM"}
    assert route("StatusFunction")["Path"] == "/orders/{orderId}/fulfillments"
    assert "Auth" not in route("WebhookFunction")


def test_the_created_app_secret_holds_the_placeholder_the_worker_recognises(
    template: dict[str, Any],
) -> None:
    from wix_fulfillment.adapters.app_secret import NOT_SET

    secret = resource_properties(template, "WixAppSecret")
    assert secret["SecretString"] == NOT_SET
    assert "GenerateSecretString" not in secret
