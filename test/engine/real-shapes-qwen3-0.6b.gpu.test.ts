// GPU engine vs CPU reference on a random-weight model with qwen3-0.6b's shapes, cut to two layers
// (the check and its tolerance: test/helpers/real-shape-agreement.ts), with the answer-first probe too.
import { testRealShapeAgreement } from '../helpers/real-shape-agreement.ts';

testRealShapeAgreement('qwen3-0.6b', { probe: true });
