package io.finetune.trainer.storage;

/** The S3 job-run suite against s3proxy. */
class S3JobRunS3ProxyTest extends S3JobRunSuite {
    @Override
    S3Server server() throws Exception {
        return S3Server.get(S3Server.Kind.S3PROXY);
    }
}
