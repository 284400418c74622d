import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { bagOfWordsLoss, blockBagOfWords } from '../src/pretrain/bag-of-words.ts';
import { initBackend } from '../src/backend/select.ts';

const BOS = 0;
const EOS = 2;
const SPECIAL = new Set([0, 1, 2, 3]);

describe('bag-of-words targets of <s>', () => {
  before(async () => {
    await initBackend();
  });

  it('in packed blocks, each <s> predicts the ordinary tokens up to its </s> or the block end', () => {
    // Block 0: "… 11 </s> <s> 20 21 </s> <s> 30" (the first document began in an earlier block).
    // Block 1: "<s> </s> <s> 40 3 41 42" (an empty document; 3 is special).
    const t = blockBagOfWords([Int32Array.of(11, 2, 0, 20, 21, 2, 0, 30), Int32Array.of(0, 2, 0, 40, 3, 41, 42, 2)], BOS, EOS, SPECIAL);
    assert.deepEqual(Array.from(t.anchors), [2, 6, 8 + 2]);
    assert.deepEqual(Array.from(t.labels), [20, 21, 30, 40, 41, 42]);
    assert.deepEqual(Array.from(t.anchorOf), [0, 0, 1, 2, 2, 2]);
  });

  it('its loss is the mean −log p(token | <s>) under the head, by hand', () => {
    // Two rows of length 2; anchors at flat positions 0 and 2; a head that returns fixed logits per row.
    const hidden = tf.tensor3d([[[1], [9]], [[2], [9]]]);
    const logits = [
      [0, Math.log(3), 0],
      [Math.log(2), 0, 0],
    ];
    const head = (rows: tf.Tensor2D) => {
      assert.deepEqual(Array.from(rows.dataSync()), [1, 2], 'the <s> rows are gathered');
      return tf.tensor2d(logits);
    };
    const loss = bagOfWordsLoss(hidden, { anchors: Int32Array.of(0, 2), anchorOf: Int32Array.of(0, 0, 1), labels: Int32Array.of(1, 2, 0) }, head);
    // Row 0: p = [1, 3, 1] / 5; row 1: p = [2, 1, 1] / 4.
    const want = -(Math.log(3 / 5) + Math.log(1 / 5) + Math.log(2 / 4)) / 3;
    assert.ok(Math.abs((loss.dataSync()[0] as number) - want) < 1e-6);
    tf.dispose([hidden, loss]);
  });
});
