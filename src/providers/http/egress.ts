/**
 * The egress policy (issue 13, findings 2 and 3): which addresses certhub may open a connection to. Every outbound
 * request of the shared HTTP client goes through it, on the address actually connected: a name is resolved once, every
 * address it resolves to is checked, and the connection is handed exactly those addresses (net's `lookup`), so a name
 * that resolves to something else a second time (a DNS rebind) cannot slip a private address past the check.
 *
 * Refused unless allowed: everything that is not plain public unicast (loopback, RFC 1918, CGNAT, link-local,
 * unique-local, multicast, unspecified, broadcast, reserved, and IPv6 forms that embed an IPv4 address), in every
 * spelling (ipaddr.js parses `2130706433`, `0x7f000001`, `0177.0.0.1` and `::ffff:127.0.0.1` as what they are).
 * Cloud metadata endpoints are refused even with `allow_private`: only an explicit `allow` entry lets one through.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** certhub.yaml `outbound:` as the client takes it. */
export interface EgressPolicy {
  /** Private, loopback, link-local and other non-public addresses are allowed (metadata addresses still are not). */
  allowPrivate: boolean;
  /** CIDRs (`10.20.0.0/16`, `fd12::/48`, a bare address) and host names (`lms.intra.example`) always allowed. */
  allow: readonly string[];
}

/** The production default: public unicast only. */
export const REFUSE_PRIVATE_EGRESS: EgressPolicy = Object.freeze({ allowPrivate: false, allow: Object.freeze([]) });
/** For the demo, the sandbox and tests, which talk to simulators on 127.0.0.1. */
export const ALLOW_PRIVATE_EGRESS: EgressPolicy = Object.freeze({ allowPrivate: true, allow: Object.freeze([]) });

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a name resolves to. Injectable so tests never ask a real resolver. */
export type Resolve = (hostname: string) => Promise<readonly ResolvedAddress[]>;

const systemResolve: Resolve = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254']);

/** Why a connection was not opened. Carries no address: what reaches a caller names only the host it was asked for. */
export class EgressRefusedError extends Error {
  readonly code = 'EGRESS_REFUSED';
  /** The host as the request named it (a name or the literal in the URL), never a resolved address. */
  readonly host: string;
  readonly metadata: boolean;
  constructor(host: string, metadata: boolean) {
    super(
      metadata
        ? `${host} is a cloud metadata address; certhub connects to one only when it is listed in outbound.allow`
        : `${host} is or resolves to a private, loopback, link-local or otherwise non-public address; set outbound.allow_private: true or list it in outbound.allow to allow it`,
    );
    this.name = 'EgressRefusedError';
    this.host = host;
    this.metadata = metadata;
  }
}

/** The EgressRefusedError in `err` or its causes, if any. */
export function egressRefusal(err: unknown): EgressRefusedError | null {
  let cur: unknown = err;
  for (let depth = 0; depth < 6 && cur instanceof Error; depth++) {
    if (cur instanceof EgressRefusedError) return cur;
    cur = cur.cause;
  }
  return null;
}

export interface EgressGuard {
  readonly policy: EgressPolicy;
  /** Throws EgressRefusedError when `address` (any spelling) may not be connected to for `host`. */
  checkAddress(host: string, address: string): void;
  /** The addresses a connection to `host` may use: the literal itself, or every address the name resolves to, all checked. */
  resolve(host: string): Promise<ResolvedAddress[]>;
  /** For net / tls connect options: resolves once, checks every address, and hands back only those. */
  lookup: LookupFunction;
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

/** `0x7f000001`, `2130706433`, `::ffff:127.0.0.1` as the address they are (IPv4-mapped IPv6 becomes IPv4); null for a name. */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const h = normalizeHost(text);
  if (!ipaddr.isValid(h)) return null;
  try {
    return ipaddr.process(h);
  } catch {
    return null;
  }
}

function parseAllow(entries: readonly string[]): { cidrs: Cidr[]; names: Set<string> } {
  const cidrs: Cidr[] = [];
  const names = new Set<string>();
  for (const entry of entries) {
    const e = normalizeHost(entry);
    if (e.includes('/')) {
      const [range, bits] = ipaddr.parseCIDR(e);
      // An IPv4-mapped range is the IPv4 range it maps.
      cidrs.push(range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress() ? [(range as ipaddr.IPv6).toIPv4Address(), bits - 96] : [range, bits]);
      continue;
    }
    const address = parseAddress(e);
    if (address !== null) cidrs.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    else names.add(e);
  }
  return { cidrs, names };
}

/** Whether `entry` is something outbound.allow accepts (a CIDR, an address or a host name); the reason when not. */
export function allowEntryProblem(entry: string): string | null {
  const e = normalizeHost(entry);
  if (e === '') return 'must not be empty';
  if (e.includes('/')) {
    try {
      ipaddr.parseCIDR(e);
      return null;
    } catch {
      return 'must be a CIDR like 10.20.0.0/16, an address, or a host name';
    }
  }
  if (parseAddress(e) !== null) return null;
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(e) ? null : 'must be a CIDR like 10.20.0.0/16, an address, or a host name';
}

export function createEgressGuard(opts: { policy?: EgressPolicy; resolve?: Resolve } = {}): EgressGuard {
  const policy = opts.policy ?? REFUSE_PRIVATE_EGRESS;
  const resolveName = opts.resolve ?? systemResolve;
  const allow = parseAllow(policy.allow);

  const allowedByCidr = (address: ipaddr.IPv4 | ipaddr.IPv6): boolean =>
    allow.cidrs.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));

  function checkAddress(host: string, text: string): void {
    const address = parseAddress(text);
    // Not an address at all: nothing to connect to, and nothing net would accept either.
    if (address === null) throw new EgressRefusedError(host, false);
    if (allowedByCidr(address)) return;
    const metadata = METADATA_ADDRESSES.has(address.toNormalizedString()) || METADATA_ADDRESSES.has(address.toString());
    if (metadata) throw new EgressRefusedError(host, true);
    if (address.range() === 'unicast') return;
    if (!policy.allowPrivate) throw new EgressRefusedError(host, false);
  }

  async function resolve(hostInput: string): Promise<ResolvedAddress[]> {
    const host = normalizeHost(hostInput);
    const literal = parseAddress(host);
    if (literal !== null) {
      checkAddress(host, host);
      return [{ address: literal.toString(), family: literal.kind() === 'ipv4' ? 4 : 6 }];
    }
    const byName = allow.names.has(host);
    if (!byName && METADATA_NAMES.has(host)) throw new EgressRefusedError(host, true);
    const addresses = await resolveName(host);
    if (addresses.length === 0) throw Object.assign(new Error(`${host} did not resolve`), { code: 'ENOTFOUND' });
    const checked: ResolvedAddress[] = [];
    for (const a of addresses) {
      if (!byName) checkAddress(host, a.address);
      // What is handed to the socket is the canonical form of what was checked: no second interpretation is possible.
      const parsed = parseAddress(a.address);
      if (parsed === null) throw new EgressRefusedError(host, false);
      checked.push({ address: parsed.toString(), family: parsed.kind() === 'ipv4' ? 4 : 6 });
    }
    return checked;
  }

  const lookup: LookupFunction = (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        if (options.all === true) {
          callback(null, addresses);
          return;
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const first = addresses.find((a) => wanted === 0 || a.family === wanted) ?? addresses[0];
        if (first === undefined) callback(Object.assign(new Error(`${hostname} did not resolve`), { code: 'ENOTFOUND' }), '', 0);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };

  return { policy, checkAddress, resolve, lookup };
}
