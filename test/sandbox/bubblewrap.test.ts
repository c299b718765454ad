import { abuseSuite } from './abuse-cases';

abuseSuite('bubblewrap');
