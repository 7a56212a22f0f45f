import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { TriadError } from "../../errors.js";
import type { HttpStats } from "../rejections.js";
import type { A2AMessage } from "../types.js";
import { PeerLink } from "./peer-link.js";

export type HttpTransportOptions = {
  maxBodyBytes: number;
  maxBatchMessages: number;
  maxQueuedPerPeer: number;
  maxInFlightPerPeer: number;
  requestTimeoutMs: number;
  streams: boolean;
  stats: HttpStats;
};

/**
 * The sending side of HTTP: a directory of peers (agent id -> endpoint) and one PeerLink per
 * endpoint, all over keep-alive agents (a connection per POST would cost more than the POST).
 */
export class HttpTransport {
  /**
   * agent id -> its endpoint, the URL as it was given (what peerUrl answers), and the body limit
   * it said it takes (setPeerLimit; forgotten when its URL changes).
   */
  private readonly peers = new Map<string, { endpoint: URL; given: string; maxBytes?: number }>();
  private readonly links = new Map<string, PeerLink>();
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(private readonly options: HttpTransportOptions) {
    // Idle sockets close before the server's 30 s keep-alive timeout does (see server.ts).
    const agentOptions = { keepAlive: true, maxSockets: options.maxInFlightPerPeer, timeout: 15_000 };
    this.httpAgent = new HttpAgent(agentOptions);
    this.httpsAgent = new HttpsAgent(agentOptions);
  }

  /** Routes messages for `agentId` to the A2A listener at `url` (its base URL, or the full .../a2a). */
  setPeer(agentId: string, url: string): void {
    this.peers.set(agentId, { endpoint: endpointOf(agentId, url), given: url });
    this.dropUnusedLinks();
  }

  removePeer(agentId: string): boolean {
    const removed = this.peers.delete(agentId);
    this.dropUnusedLinks();
    return removed;
  }

  /** The URL given to setPeer for `agentId`, as given. */
  peerUrl(agentId: string): string | undefined {
    return this.peers.get(agentId)?.given;
  }

  hasPeer(agentId: string): boolean {
    return this.peers.has(agentId);
  }

  /** The body limit `agentId` said it takes (undefined: it did not say, or is no HTTP peer). */
  setPeerLimit(agentId: string, maxBytes: number | undefined): void {
    const peer = this.peers.get(agentId);
    if (peer !== undefined) peer.maxBytes = maxBytes;
  }

  peerLimit(agentId: string): number | undefined {
    return this.peers.get(agentId)?.maxBytes;
  }

  /** Whether `agentId`'s endpoint announced that it reads payload codec `name` (payload-codec.ts). */
  decodes(agentId: string, name: string): boolean {
    const endpoint = this.peers.get(agentId)?.endpoint;
    return endpoint !== undefined && this.links.get(endpoint.href)?.decodes(name) === true;
  }

  /** `wire`: the message as it is to be written, when the caller has it (see signed-line.ts). */
  send(message: A2AMessage, timeoutMs: number, wire?: string): Promise<void> {
    const peer = this.peers.get(message.recipient);
    if (peer === undefined) {
      return Promise.reject(
        new TriadError("ERR_A2A_NO_ROUTE", `no HTTP peer known for ${message.recipient}`),
      );
    }
    const link = this.linkFor(peer.endpoint);
    link.limitTo(peer.maxBytes); // its batches held to what the peer said it takes
    return link.send(message, timeoutMs, wire);
  }

  close(): void {
    for (const link of this.links.values()) link.close();
    this.links.clear();
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private linkFor(endpoint: URL): PeerLink {
    let link = this.links.get(endpoint.href);
    if (link === undefined) {
      const {
        maxBodyBytes,
        maxBatchMessages,
        maxQueuedPerPeer,
        maxInFlightPerPeer,
        requestTimeoutMs,
        streams,
        stats,
      } = this.options;
      link = new PeerLink({
        endpoint,
        agent: endpoint.protocol === "https:" ? this.httpsAgent : this.httpAgent,
        maxBatchBytes: maxBodyBytes,
        maxBatchMessages,
        maxQueued: maxQueuedPerPeer,
        maxInFlight: maxInFlightPerPeer,
        requestTimeoutMs,
        streams,
        stats,
      });
      this.links.set(endpoint.href, link);
    }
    return link;
  }

  // Peers come and go (a worker restarted on another port); links nobody points at and that
  // hold nothing are let go, so the map is bounded by the peers, not by their history.
  private dropUnusedLinks(): void {
    const used = new Set([...this.peers.values()].map((p) => p.endpoint.href));
    for (const [href, link] of this.links) {
      if (!used.has(href) && link.idle) {
        link.close(); // its stream, if open
        this.links.delete(href);
      }
    }
  }
}

function endpointOf(agentId: string, url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TriadError("ERR_INVALID_CONFIG", `peer ${agentId}: ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `peer ${agentId}: URL must be http:// or https:// (got ${parsed.protocol})`,
    );
  }
  if (!parsed.pathname.endsWith("/a2a")) {
    parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}/a2a`;
  }
  parsed.search = "";
  parsed.hash = "";
  return parsed;
}
