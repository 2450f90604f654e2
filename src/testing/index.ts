// The testing kit: what a user needs to test code that uses this SDK, without a real token server.
export { MockTokenServer } from './mock-token-server/server.js';
export {
  type MockTokenServerOptions,
  type MockAccessTokenFormat,
  type MockFaultEndpoint,
  type MockFaultOptions,
  type MockClient,
  type MockClientAuthMethod,
  type MockDiscovery,
  type MockEchoPart,
  type MockEchoPlace,
  type MockServiceAccount,
  type MockTrustedIssuer,
  type MockFederatedCredential,
  type MockRequestLogEntry,
  type TokenServerFault,
} from './mock-token-server/types.js';
export {
  type MockClientCertificateAuth,
  type MockMtlsEndpointAliases,
  type MockTlsCertificates,
} from './mock-token-server/mtls-types.js';
export { createTestCertificates, type TestCertificateOptions, type TestCertificates } from './certificates.js';
export {
  createSelfSignedClientCertificate,
  type ClientCertificate,
  type ClientCertificateOptions,
} from './client-certificates.js';
export { writeCertificateFiles, type CertificateFileContents, type CertificateFiles } from './certificate-files.js';
export { ManualClock } from './manual-clock.js';
export {
  MockWorkloadIssuer,
  writeTokenFile,
  type MockWorkloadIssuerOptions,
  type WorkloadTokenClaims,
} from './workload-issuer.js';
export { AuthConfigError } from '../common/config-error.js';
