"""The `aws-lambda` preset: a Lambda code root and zip (handler ``index.handler``), a SAM
template, `nitro preview` through the built handler, and `nitro deploy aws` (boto3).

Nothing is imported here: a built entry imports ``entry`` only, the CLI ``preset``.
"""
