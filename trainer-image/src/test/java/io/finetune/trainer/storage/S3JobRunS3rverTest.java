package io.finetune.trainer.storage;

/** The S3 job-run suite against s3rver. */
class S3JobRunS3rverTest extends S3JobRunSuite {
    @Override
    S3Server server() throws Exception {
        return S3Server.get(S3Server.Kind.S3RVER);
    }
}
