import { describe, expect, it } from 'vitest';
import { ConversationEngine } from '../../../src/conversation/index.js';
import { UNAVAILABLE_MESSAGE, unavailableFlowPackage } from '../../../src/conversation/unavailable-flow.js';

describe('the unavailable flow (a route that cannot run)', () => {
  it('says it cannot take the call and ends it with reason route_invalid, whatever the caller says', async () => {
    const engine = new ConversationEngine(unavailableFlowPackage.createFlow({ settings: {}, resources: {} }));
    const reply = await engine.start();
    expect(reply).toMatchObject({ text: UNAVAILABLE_MESSAGE, terminal: true });
    expect(reply.actions).toEqual([{ type: 'end_call', reason: 'route_invalid' }]);
  });
});
