// The 50-rule gRFC A43 policy of the server benchmark's `authzPolicy50` variant: what a shop's policy
// looks like after a while (deny rules for admin paths, debug headers and retired callers; allow
// rules per service, most by SPIFFE ID, some by tenant header), where the bench client's call is
// allowed only by the last rule, so that every rule before it is tried and most fail.

/** The bench client's certificate subject (auth-server-process.ts issues it with `commonName: 'bench'`). */
const benchSubject = 'CN=bench';

/** The policy, as the JSON object a user would load, for calls to `method` from the bench client. */
export function fiftyRulePolicy(method: string): object {
  const service = method.slice(0, method.lastIndexOf('/'));
  const deny = [
    {
      name: 'deny_admin_from_outside',
      source: { principals: ['spiffe://partner.example/*'] },
      request: { paths: ['/admin.v1.*'] },
    },
    { name: 'deny_debug_header', request: { headers: [{ key: 'x-debug', values: ['*'] }] } },
    {
      name: 'deny_canary_tenants',
      request: { paths: ['/shop.v1.Checkout/*'], headers: [{ key: 'x-tenant', values: ['canary-*'] }] },
    },
    ...Array.from({ length: 7 }, (_, i) => ({
      name: `deny_retired_${i}`,
      source: { principals: [`spiffe://shop.example/ns/legacy/sa/retired-${i}`, `retired-${i}.shop.example`] },
    })),
  ];
  const allow = [
    { name: 'allow_health', request: { paths: ['/grpc.health.v1.Health/*'] } },
    {
      name: 'allow_reflection_from_ops',
      source: { principals: ['spiffe://shop.example/ns/ops/*'] },
      request: { paths: ['/grpc.reflection.*'] },
    },
    ...Array.from({ length: 30 }, (_, i) => ({
      name: `allow_service_${i}`,
      source: { principals: [`spiffe://shop.example/ns/shop/sa/svc-${i}`, `svc-${i}.shop.example`] },
      request: { paths: [`/shop.v1.Service${i}/*`, `/shop.v2.Service${i}/Get*`] },
    })),
    ...Array.from({ length: 7 }, (_, i) => ({
      name: `allow_tenant_${i}`,
      request: {
        paths: [`${service}/Tenant${i}*`],
        headers: [
          { key: 'x-tenant', values: [`tenant-${i}`, `tenant-${i}-eu`] },
          { key: 'x-region', values: ['eu-*', 'us-*'] },
        ],
      },
    })),
    {
      name: 'allow_bench_client',
      source: { principals: [benchSubject] },
      request: { paths: [method], headers: [{ key: 'authorization', values: ['Bearer *'] }] },
    },
  ];
  if (deny.length + allow.length !== 50)
    throw new Error(`the bench policy has ${deny.length + allow.length} rules, not 50`);
  return { name: 'bench-shop', deny_rules: deny, allow_rules: allow };
}
