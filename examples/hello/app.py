"""The example function: greets whoever the event names."""

import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    name = (event or {}).get("name", "world")
    logger.info("greeting %s", name)
    return {
        "statusCode": 200,
        "body": f"Hello, {name}!",
        "function": context.function_name,
        "requestId": context.aws_request_id,
        "region": os.environ["AWS_REGION"],
    }
