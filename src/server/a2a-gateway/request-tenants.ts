import type { ServerCallContext } from "@a2a-js/sdk/server";

/**
 * The A2A `tenant` each request was sent for, by its call context. The gateway serves no
 * tenants of its own (its card names none), but a client may send one, and a message's claim
 * already keeps tenants apart (MessageClaims): a task started for one tenant is that tenant's,
 * and a GetTask, ListTasks, CancelTask or SubscribeToTask for another (or for none) does not
 * find it, as a message naming it does not. A task started without a tenant (or over REST) is
 * the no-tenant requests' alone.
 *
 * The request handler notes the tenant before the SDK runs the request; TriadTaskStore reads it
 * when it saves a task (the tenant is kept in the task's A2A envelope) and when it loads one.
 * A context nobody noted (the gateway's own follow-ups) is not checked.
 */
class RequestTenants {
  private readonly byContext = new WeakMap<ServerCallContext, string>();

  note(context: ServerCallContext | undefined, tenant: unknown): void {
    if (context !== undefined) this.byContext.set(context, typeof tenant === "string" ? tenant : "");
  }

  /** The request's tenant ("" for none); undefined for a context no request noted. */
  of(context: ServerCallContext | undefined): string | undefined {
    return context === undefined ? undefined : this.byContext.get(context);
  }
}

export const requestTenants = new RequestTenants();
