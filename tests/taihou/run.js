'use strict';
// Every call the taihou client (npm, 2.0.7) offers for weeb.sh's four services, made
// against this server; one JSON line per call on stdout: {call, ok, result|error}.
// tests/test_taihou.py installs taihou, starts the server and checks each line.
//
// Env: TAIHOU_BASE_URL, TAIHOU_KEY, TAIHOU_WOLKE (1: `Wolke` tokens), TAIHOU_IMAGE_URL
// (an image the server may fetch), TAIHOU_BOT_ID (the key's bot), TAIHOU_USER_A/B.
const Taihou = require('taihou');

const env = process.env;
const BASE = env.TAIHOU_BASE_URL;
const IMG = env.TAIHOU_IMAGE_URL;
const BOT = env.TAIHOU_BOT_ID;
const A = env.TAIHOU_USER_A;
const B = env.TAIHOU_USER_B;
const TYPE = `ci-${Date.now().toString(36)}`; // unique, so random/types/tags find our upload

const t = new Taihou(env.TAIHOU_KEY, env.TAIHOU_WOLKE === '1', {
  baseURL: BASE,
  userAgent: 'voiceprofile-tests/taihou',
  timeout: 20000,
  useCache: false, // tama: never answer getSetting/getSubSetting from its cache
});

function emit(o) { process.stdout.write(JSON.stringify(o) + '\n'); }

function png(buf) { // korra answers Buffers: the PNG signature and the IHDR size
  const isPng = buf.length > 24 && buf.slice(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex'));
  return {buffer: true, length: buf.length, png: isPng,
    width: isPng ? buf.readUInt32BE(16) : null, height: isPng ? buf.readUInt32BE(20) : null};
}

function describe(e) {
  let data = e.response ? e.response.data : undefined;
  if (Buffer.isBuffer(data)) {
    try { data = JSON.parse(data.toString('utf8')); } catch (_) { data = data.toString('utf8'); }
  }
  // Never the request config: it carries the Authorization header.
  return {message: e.message, status: e.response ? e.response.status : null, code: e.code || null, data};
}

// uploadImage() never returns its response (taihou's Toph.js has no `return`), and
// resolves before the request ends: the answer is caught here.
const uploads = [];
t.axios.interceptors.response.use(res => {
  if (res.config.url.endsWith('/images/upload')) uploads.push({status: res.status, data: res.data});
  return res;
}, err => {
  if (err.config && err.config.url.endsWith('/images/upload')) {
    uploads.push({status: err.response ? err.response.status : null, data: err.response ? err.response.data : null});
  }
  return Promise.reject(err);
});
// A failed upload is an unhandled rejection inside taihou; without this Node exits 1.
process.on('unhandledRejection', e => emit({call: 'unhandledRejection', ok: false, error: describe(e)}));

async function call(name, fn) { // catches both synchronous throws and rejections
  try {
    const v = await fn();
    emit({call: name, ok: true, result: Buffer.isBuffer(v) ? png(v) : (v === undefined ? null : v)});
    return v;
  } catch (e) {
    emit({call: name, ok: false, error: describe(e)});
    return undefined;
  }
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

async function upload(name, opts) {
  const n = uploads.length;
  await call(name, () => t.toph.uploadImage(opts));
  for (let i = 0; i < 800 && uploads.length === n; i++) await sleep(25);
  const u = uploads[n] || {status: null, data: null};
  emit({call: name + ':response', ok: u.status >= 200 && u.status < 300, result: u});
  return u.data && u.data.file ? u.data.file.id : undefined;
}

(async () => {
  // the service roots
  await call('toph.getStatus', () => t.toph.getStatus());
  await call('korra.getStatus', () => t.korra.getStatus());
  await call('shimakaze.getStatus', () => t.shimakaze.getStatus());
  await call('tama.getStatus', () => t.tama.getStatus());

  // toph
  const id = await upload('toph.uploadImage(url)', {url: IMG, baseType: TYPE, hidden: false,
    nsfw: false, tags: 'ci-a,ci-b', source: 'https://example.org/src'});
  await upload('toph.uploadImage(file)', {file: __filename, baseType: TYPE});
  await call('toph.getImageTypes', () => t.toph.getImageTypes());
  await call('toph.getImageTypes(preview)', () => t.toph.getImageTypes({preview: true}));
  await call('toph.getImageTags', () => t.toph.getImageTags());
  await call('toph.getRandomImage(type)', () => t.toph.getRandomImage(TYPE));
  await call('toph.getRandomImage(tags)', () => t.toph.getRandomImage(null, {tags: 'ci-a'}));
  await call('toph.getRandomImage(type,filetype)',
    () => t.toph.getRandomImage(TYPE, {filetype: 'png', nsfw: false}));
  await call('toph.getImageInfo', () => t.toph.getImageInfo(id));
  await call('toph.addTagsToImage', () => t.toph.addTagsToImage(id, ['ci-c', {name: 'ci-d'}]));
  await call('toph.getImageInfo(after add)', () => t.toph.getImageInfo(id));
  await call('toph.removeTagsFromImage', () => t.toph.removeTagsFromImage(id, ['ci-c']));
  await call('toph.getImageInfo(after remove)', () => t.toph.getImageInfo(id));
  await call('toph.deleteImage', () => t.toph.deleteImage(id));
  await call('toph.getImageInfo(after delete)', () => t.toph.getImageInfo(id));
  await call('toph.getRandomImage()', () => t.toph.getRandomImage()); // taihou refuses

  // korra
  for (const type of ['awooo', 'eyes', 'won']) {
    await call(`korra.generateSimple(${type})`, () => t.korra.generateSimple(type));
  }
  await call('korra.generateSimple(awooo,colours)',
    () => t.korra.generateSimple('awooo', {face: '#ff0000', hair: '00ff00', foo: 'bar'}));
  await call('korra.generateSimple(bad)', () => t.korra.generateSimple('nope'));
  for (const s of ['online', 'idle', 'dnd', 'streaming', 'offline']) {
    await call(`korra.generateDiscordStatus(${s})`, () => t.korra.generateDiscordStatus(s, IMG));
  }
  await call('korra.generateWaifuInsult', () => t.korra.generateWaifuInsult(IMG));
  await call('korra.generateLoveShip', () => t.korra.generateLoveShip(IMG, IMG));
  await call('korra.generateLicense', () => t.korra.generateLicense({title: 'CI License',
    avatar: IMG, badges: [IMG, IMG, IMG], widgets: ['1', '2', '3']}));

  // shimakaze (botID passed each time: taihou's getUserReputation(target) alone throws)
  await call('shimakaze.setSettings', () => t.shimakaze.setSettings({reputationPerDay: 2,
    maximumReputation: 0, maximumReputationReceivedDay: 0, reputationCooldown: 300}));
  await call('shimakaze.getSettings', () => t.shimakaze.getSettings());
  await call('shimakaze.giveReputation', () => t.shimakaze.giveReputation({botID: BOT, targetID: B, sourceID: A}));
  await call('shimakaze.getUserReputation', () => t.shimakaze.getUserReputation(BOT, B));
  await call('shimakaze.increaseUserReputation',
    () => t.shimakaze.increaseUserReputation({botID: BOT, targetID: B, increase: 5}));
  await call('shimakaze.decreaseUserReputation',
    () => t.shimakaze.decreaseUserReputation({botID: BOT, targetID: B, decrease: 2}));
  await call('shimakaze.resetUserReputation(A,cooldown)',
    () => t.shimakaze.resetUserReputation({botID: BOT, targetID: A, resetCooldown: true}));
  await call('shimakaze.resetUserReputation', () => t.shimakaze.resetUserReputation({botID: BOT, targetID: B}));

  // tama
  const S = {type: 'guilds', id: `9${Date.now()}`};
  await call('tama.createSetting', () => t.tama.createSetting({...S, data: {prefix: 'poi'}}));
  await call('tama.getSetting', () => t.tama.getSetting(S.type, S.id));
  await call('tama.updateSetting', () => t.tama.updateSetting({...S, data: {prefix: 'awoo'}}));
  await call('tama.listSubSettings(empty)', () => t.tama.listSubSettings({...S, subType: 'channels'}));
  await call('tama.createSubSetting',
    () => t.tama.createSubSetting({...S, subType: 'channels', subId: '1', data: {name: 'general'}}));
  await call('tama.getSubSetting', () => t.tama.getSubSetting({...S, subType: 'channels', subId: '1'}));
  await call('tama.updateSubSetting',
    () => t.tama.updateSubSetting({...S, subType: 'channels', subId: '1', data: {name: 'x'}}));
  await call('tama.listSubSettings', () => t.tama.listSubSettings({...S, subType: 'channels'}));
  await call('tama.deleteSubSetting', () => t.tama.deleteSubSetting({...S, subType: 'channels', subId: '1'}));
  await call('tama.deleteSetting', () => t.tama.deleteSetting(S.type, S.id));
  await call('tama.getSetting(after delete)', () => t.tama.getSetting(S.type, S.id));
  emit({call: 'done', ok: true, result: {type: TYPE, imageId: id || null}});
})();
