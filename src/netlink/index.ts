export { RouteSocket, parseLinkMessages } from './route-socket.js';
export type { RouteSocketOptions, RouteSocketEvents } from './route-socket.js';
export { IF_OPER, IF_LINK_MODE, IFF, operStateName } from './constants.js';
export type { OperState, LinkMode } from './constants.js';
export type { LinkRecord, LinkSettings } from './link.js';
