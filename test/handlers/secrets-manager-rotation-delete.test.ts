import { lambdaContext } from './lambda-env';
import { handler } from '../../lambdas/handlers/secrets-manager-rotation';
import { captureOutput, type Captured } from './capture';
import { FakeAws } from './fake-aws';

// This file's containers are configured to delete the previous key (read on first invocation).
process.env.KEYROTATE_ROTATION_OLD_KEY_ACTION = 'delete';

const TOKEN = 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b';
let output: Captured;

beforeEach(() => {
  output = captureOutput();
});

afterEach(() => output.restore());

it('deletes the previous key in finishSecret when KEYROTATE_ROTATION_OLD_KEY_ACTION is delete, also when re-entered', async () => {
  // Prepare
  const aws = new FakeAws();
  aws.addUser('smtp', { path: '/service/' });
  const old = aws.addKey('smtp');
  aws.addSecret('smtp-secret', JSON.stringify({ userName: 'smtp' }));
  aws.startSecretRotation('smtp-secret', TOKEN);
  const event = (Step: string) => ({ Step, SecretId: 'smtp-secret', ClientRequestToken: TOKEN });

  // Act
  for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret', 'finishSecret']) {
    await handler(event(step), lambdaContext());
  }

  // Assess
  expect(aws.keyIds('smtp')).not.toContain(old.accessKeyId);
  expect(aws.keyIds('smtp')).toHaveLength(1);
  const finished = output.logLines().filter((l) => (l.rotation as { outcome?: string } | undefined)?.outcome === 'finished');
  expect(finished.map((l) => l.rotation)).toEqual([
    { step: 'finishSecret', outcome: 'finished', userName: 'smtp', accessKeyId: aws.keyIds('smtp')[0], previousKey: { id: old.accessKeyId, action: 'deleted' } },
    // Re-entered: the old key is already gone, nothing left to retire.
    { step: 'finishSecret', outcome: 'finished', userName: 'smtp', accessKeyId: aws.keyIds('smtp')[0] },
  ]);
});
