/** Every action of the GUI and API, in one list (app.ts registers each as a form post and an API call). */
import type { Action } from '../action.js';
import { alertActions } from './alert-actions.js';
import { certificateActions } from './certificate-actions.js';
import { configurationActions } from './configuration-actions.js';
import { destinationActions } from './destination-actions.js';
import { listenerActions } from './listener-actions.js';

export const allActions: readonly Action[] = [...certificateActions, ...listenerActions, ...destinationActions, ...alertActions, ...configurationActions];
