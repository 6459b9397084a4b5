package io.finetune.trainer.storage;

/** The S3 storage suite against s3proxy (Java, SigV4-checking, decodes aws-chunked uploads). */
class S3StorageS3ProxyTest extends S3StorageSuite {
    @Override
    S3Server server() throws Exception {
        return S3Server.get(S3Server.Kind.S3PROXY);
    }
}
