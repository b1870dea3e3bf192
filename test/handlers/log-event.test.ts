import './log-event-env';
import { lambdaContext } from './lambda-env';
import { stepHandler } from '../../lambdas/handlers/shared';
import { captureOutput } from './capture';

it('never logs the event, even with POWERTOOLS_LOGGER_LOG_EVENT=true', async () => {
  // Prepare
  const output = captureOutput();
  const handler = stepHandler('CreateKey', () => ({}), async () => ({ accessKeyId: 'AKIANEW' }));

  // Act
  try {
    await handler({ plan: { rotationId: 'r1' }, newKey: { sealedSecret: 'SEALEDBLOB' } }, lambdaContext());
  } finally {
    output.restore();
  }

  // Assess
  expect(process.env.POWERTOOLS_LOGGER_LOG_EVENT).toBe('true');
  expect(output.logLines().map((l) => l.message)).toEqual(['CreateKey succeeded']);
  expect(output.text()).not.toContain('SEALEDBLOB');
});
