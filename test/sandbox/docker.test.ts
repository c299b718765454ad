import { abuseSuite } from './abuse-cases';

abuseSuite('docker');
