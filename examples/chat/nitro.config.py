from nitro.config import define_nitro_config

# The same routes serve `nitro dev`, the server preset and AWS Lambda; on Lambda the
# chat goes through an API Gateway WebSocket API and /clock streams through the
# Function URL (docs/platforms/aws-lambda.md).
config = define_nitro_config(aws_lambda={"websocket": True, "streaming": True})
