// GPU engine vs CPU reference on a random-weight model with r1-distill-qwen-1.5b's shapes, cut to two layers
// (the check and its tolerance: test/helpers/real-shape-agreement.ts).
import { testRealShapeAgreement } from '../helpers/real-shape-agreement.ts';

testRealShapeAgreement('r1-distill-qwen-1.5b');
